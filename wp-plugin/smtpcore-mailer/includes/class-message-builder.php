<?php
/**
 * Translation of a PHPMailer instance, as wp_mail() and phpmailer_init left
 * it, into an SmtpCore\Message.
 *
 * Everything PHPMailer would have put in the message is read back: From and
 * Sender, recipients (including internationalised ones PHPMailer queues until
 * send time), Reply-To, subject, HTML and plain bodies, attachments and inline
 * images with their names, types and cids, custom headers, Message-ID, Date,
 * priority, read receipts, iCalendar and DKIM settings. A body that is already
 * MIME (a multipart Content-Type given by the caller) cannot be described as
 * an SmtpCore\Message, so PHPMailer renders that one and smtpcore sends the
 * bytes as they are.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer;

use PHPMailer\PHPMailer\PHPMailer;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Builds what Transport sends from a PHPMailer instance.
 */
final class Message_Builder {

	/**
	 * Headers the message sets from PHPMailer's own fields, never from custom headers.
	 */
	const RESERVED_HEADERS = array( 'from', 'to', 'cc', 'bcc', 'subject', 'reply-to', 'mime-version', 'content-type', 'content-transfer-encoding' );

	/**
	 * Builds the message.
	 *
	 * @param PHPMailer $mailer      The PHPMailer instance after phpmailer_init.
	 * @param string    $return_path Envelope sender to use when PHPMailer has no Sender ('' for none).
	 * @return array{message: ?\SmtpCore\Message, raw: ?string, envelope_from: string, recipients: string[], summary: array<string, mixed>, notes: string[]}
	 * @throws \InvalidArgumentException When the message cannot be sent as PHPMailer would refuse it too.
	 */
	public static function build( PHPMailer $mailer, string $return_path ): array {
		$charset = (string) $mailer->CharSet;
		$notes   = array();

		$recipients = self::recipients( $mailer );
		if ( ! $recipients['to'] && ! $recipients['cc'] && ! $recipients['bcc'] ) {
			throw new \InvalidArgumentException( __( 'You must provide at least one recipient email address.', 'smtpcore-mailer' ) );
		}
		if ( '' === (string) $mailer->Body && ! $mailer->AllowEmpty ) {
			throw new \InvalidArgumentException( __( 'Message body empty', 'smtpcore-mailer' ) );
		}
		$sender = trim( (string) $mailer->Sender );
		if ( '' !== $sender && ! PHPMailer::validateAddress( $sender ) ) {
			/* translators: %s: an email address */
			throw new \InvalidArgumentException( sprintf( __( 'Invalid address: (Sender): %s', 'smtpcore-mailer' ), $sender ) );
		}

		$envelope_from = '' !== $sender ? $sender : trim( $return_path );
		foreach ( $mailer->getCustomHeaders() as $header ) {
			if ( '' === $envelope_from && 'return-path' === strtolower( (string) $header[0] ) ) {
				$envelope_from = trim( (string) $header[1], " <>\t" );
			}
		}

		$content_type = strtolower( trim( explode( ';', (string) $mailer->ContentType )[0] ) );
		$all          = array_merge( $recipients['to'], $recipients['cc'], $recipients['bcc'] );
		$summary      = array(
			'from'         => self::format( (string) $mailer->From, self::utf8( (string) $mailer->FromName, $charset ) ),
			'to'           => array_map( array( self::class, 'format_pair' ), $recipients['to'] ),
			'cc'           => array_map( array( self::class, 'format_pair' ), $recipients['cc'] ),
			'bcc'          => array_map( array( self::class, 'format_pair' ), $recipients['bcc'] ),
			'reply_to'     => array_map( array( self::class, 'format_pair' ), $recipients['reply_to'] ),
			'content_type' => (string) $mailer->ContentType,
			'charset'      => $charset,
			'envelope'     => '' !== $envelope_from ? $envelope_from : (string) $mailer->From,
			'attachments'  => array_map(
				static function ( $a ) {
					return array(
						'name'        => (string) $a[2],
						'type'        => (string) $a[4],
						'disposition' => (string) $a[6],
						'cid'         => 'inline' === $a[6] ? (string) $a[7] : '',
						'path'        => $a[5] ? '' : (string) $a[0],
					);
				},
				$mailer->getAttachments()
			),
		);

		if ( ! in_array( $content_type, array( 'text/plain', 'text/html' ), true ) ) {
			// Already MIME (multipart with the caller's boundary) or a type smtpcore does not compose:
			// PHPMailer renders it exactly as it would have sent it.
			/* translators: %s: a MIME content type */
			$notes[] = sprintf( __( 'Content-Type %s: sent as PHPMailer renders it.', 'smtpcore-mailer' ), $content_type );
			return array(
				'message'       => null,
				'raw'           => self::render_with_phpmailer( $mailer ),
				'envelope_from' => '' !== $envelope_from ? $envelope_from : (string) $mailer->From,
				'recipients'    => array_map(
					static function ( $pair ) {
						return (string) $pair[0];
					},
					$all
				),
				'summary'       => $summary,
				'notes'         => $notes,
			);
		}

		$message = new \SmtpCore\Message();
		$message->from( $summary['from'] );
		if ( '' !== $envelope_from ) {
			$message->envelopeSender( $envelope_from );
		}
		foreach ( array( 'to', 'cc', 'bcc' ) as $kind ) {
			if ( $recipients[ $kind ] ) {
				$message->{$kind}( array_map( array( self::class, 'format_pair' ), self::utf8_names( $recipients[ $kind ], $charset ) ) );
			}
		}
		if ( $recipients['reply_to'] ) {
			$message->replyTo( array_map( array( self::class, 'format_pair' ), self::utf8_names( $recipients['reply_to'], $charset ) ) );
		}
		// PHPMailer strips line breaks from the subject (secureHeader) rather than refusing it.
		$message->subject( trim( str_replace( array( "\r", "\n" ), '', self::utf8( (string) $mailer->Subject, $charset ) ) ) );

		$body     = self::utf8( (string) $mailer->Body, $charset );
		$alt_body = self::utf8( (string) $mailer->AltBody, $charset );
		if ( 'text/html' === $content_type ) {
			$message->html( $body );
			if ( '' !== $alt_body ) {
				$message->text( $alt_body );
			}
		} else {
			$message->text( $body );
			if ( '' !== $alt_body ) {
				$notes[] = __( 'AltBody not sent: the content type is text/plain.', 'smtpcore-mailer' );
			}
		}
		if ( '' !== (string) $mailer->Ical ) {
			$method = preg_match( '/^METHOD:([A-Za-z-]+)/mi', (string) $mailer->Ical, $m ) ? strtoupper( $m[1] ) : 'REQUEST';
			$message->calendar( (string) $mailer->Ical, $method );
		}

		foreach ( $mailer->getAttachments() as $a ) {
			// [0] path or bytes, [2] name, [4] type, [5] is bytes, [6] disposition, [7] cid.
			$name = '' !== (string) $a[2] ? self::utf8( (string) $a[2], $charset ) : null;
			$type = '' !== (string) $a[4] ? (string) $a[4] : null;
			if ( 'inline' === $a[6] ) {
				$cid = (string) $a[7];
				if ( $a[5] ) {
					$message->embedData( (string) $a[0], $cid, $name, $type );
				} else {
					$message->embed( (string) $a[0], $cid, $type );
				}
			} elseif ( $a[5] ) {
				$message->attachData( (string) $a[0], (string) $name, $type );
			} else {
				$message->attach( (string) $a[0], $name, $type );
			}
		}

		foreach ( self::extra_headers( $mailer, $charset ) as $header ) {
			list( $name, $value ) = $header;
			$lower                = strtolower( $name );
			if ( in_array( $lower, self::RESERVED_HEADERS, true ) || 'return-path' === $lower ) {
				continue;
			}
			try {
				if ( 'sender' === $lower ) {
					$message->sender( $value );
				} elseif ( 'date' === $lower && false !== ( $time = self::parse_date( $value ) ) ) { // phpcs:ignore WordPress.CodeAnalysis.AssignmentInCondition
					$message->date( $time[0], $time[1] );
				} else {
					$message->header( $name, $value );
				}
			} catch ( \SmtpCore\UsageException | \ValueError $e ) {
				/* translators: 1: header name, 2: reason */
				$notes[] = sprintf( __( 'Header %1$s not sent: %2$s', 'smtpcore-mailer' ), $name, $e->getMessage() );
			}
		}

		$dkim = self::dkim_options( $mailer );
		if ( null !== $dkim ) {
			$message->dkim( $dkim );
		}

		return array(
			'message'       => $message,
			'raw'           => null,
			'envelope_from' => '' !== $envelope_from ? $envelope_from : (string) $mailer->From,
			'recipients'    => array_map(
				static function ( $pair ) {
					return (string) $pair[0];
				},
				$all
			),
			'summary'       => $summary,
			'notes'         => $notes,
		);
	}

	/**
	 * "Name <address>" with the name quoted, or the bare address.
	 *
	 * @param string $address The address.
	 * @param string $name    The display name, '' for none.
	 */
	public static function format( string $address, string $name ): string {
		$name = trim( preg_replace( '/[\r\n]+/', '', $name ) );
		if ( '' === $name ) {
			return $address;
		}
		return '"' . addcslashes( $name, '"\\' ) . '" <' . $address . '>';
	}

	/**
	 * @param array{0: string, 1?: string} $pair [address, name] as PHPMailer keeps them.
	 */
	public static function format_pair( array $pair ): string {
		return self::format( (string) $pair[0], (string) ( $pair[1] ?? '' ) );
	}

	/**
	 * To, Cc, Bcc and Reply-To as [address, name] pairs, including the
	 * internationalised addresses PHPMailer only moves into its lists at send time.
	 *
	 * @return array{to: array<int, array>, cc: array<int, array>, bcc: array<int, array>, reply_to: array<int, array>}
	 */
	private static function recipients( PHPMailer $mailer ): array {
		$lists = array(
			'to'       => array_values( $mailer->getToAddresses() ),
			'cc'       => array_values( $mailer->getCcAddresses() ),
			'bcc'      => array_values( $mailer->getBccAddresses() ),
			'reply_to' => array_values( $mailer->getReplyToAddresses() ),
		);
		$kinds = array(
			'to'       => 'to',
			'cc'       => 'cc',
			'bcc'      => 'bcc',
			'reply-to' => 'reply_to',
		);
		foreach ( array( 'RecipientsQueue', 'ReplyToQueue' ) as $property ) {
			if ( ! property_exists( $mailer, $property ) ) {
				continue;
			}
			$reflection = new \ReflectionProperty( $mailer, $property );
			$reflection->setAccessible( true );
			foreach ( (array) $reflection->getValue( $mailer ) as $params ) {
				// [kind, address, name]; smtpcore encodes the domain with IDNA itself.
				$kind = $kinds[ strtolower( (string) $params[0] ) ] ?? null;
				if ( null !== $kind && PHPMailer::validateAddress( $mailer->punyencodeAddress( (string) $params[1] ) ) ) {
					$lists[ $kind ][] = array( (string) $params[1], (string) $params[2] );
				}
			}
		}
		return $lists;
	}

	/**
	 * Custom headers plus the PHPMailer fields that become headers.
	 *
	 * @return array<int, array{0: string, 1: string}>
	 */
	private static function extra_headers( PHPMailer $mailer, string $charset ): array {
		$headers = array();
		if ( '' !== trim( (string) $mailer->MessageID ) ) {
			$headers[] = array( 'Message-ID', trim( (string) $mailer->MessageID ) );
		}
		if ( '' !== trim( (string) $mailer->MessageDate ) ) {
			$headers[] = array( 'Date', trim( (string) $mailer->MessageDate ) );
		}
		if ( null !== $mailer->Priority ) {
			$headers[] = array( 'X-Priority', (string) (int) $mailer->Priority );
		}
		if ( '' !== trim( (string) $mailer->ConfirmReadingTo ) ) {
			$headers[] = array( 'Disposition-Notification-To', '<' . trim( (string) $mailer->ConfirmReadingTo ) . '>' );
		}
		if ( '' !== trim( (string) $mailer->XMailer ) ) {
			$headers[] = array( 'X-Mailer', trim( (string) $mailer->XMailer ) );
		}
		foreach ( $mailer->getCustomHeaders() as $header ) {
			$headers[] = array( (string) $header[0], self::utf8( (string) $header[1], $charset ) );
		}
		return $headers;
	}

	/**
	 * DKIM options for SmtpCore\Message::dkim() when phpmailer_init configured signing.
	 *
	 * @return array<string, mixed>|null
	 */
	private static function dkim_options( PHPMailer $mailer ): ?array {
		if ( '' === (string) $mailer->DKIM_domain || '' === (string) $mailer->DKIM_selector ) {
			return null;
		}
		$pem = (string) $mailer->DKIM_private_string;
		if ( '' === $pem && '' !== (string) $mailer->DKIM_private && is_file( (string) $mailer->DKIM_private ) && is_readable( (string) $mailer->DKIM_private ) ) {
			$pem = (string) file_get_contents( (string) $mailer->DKIM_private ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_get_contents_file_get_contents
		}
		if ( '' === $pem ) {
			return null;
		}
		if ( '' !== (string) $mailer->DKIM_passphrase && function_exists( 'openssl_pkey_get_private' ) ) {
			$key = openssl_pkey_get_private( $pem, (string) $mailer->DKIM_passphrase );
			if ( false === $key || ! openssl_pkey_export( $key, $pem ) ) {
				return null;
			}
		}
		return array(
			'domain'     => (string) $mailer->DKIM_domain,
			'selector'   => (string) $mailer->DKIM_selector,
			'privateKey' => $pem,
		);
	}

	/**
	 * Renders the message with PHPMailer itself (for bodies smtpcore cannot describe).
	 */
	private static function render_with_phpmailer( PHPMailer $mailer ): string {
		$mailer->isSMTP(); // With 'mail', PHPMailer leaves To and Subject out of the headers.
		$mailer->preSend();
		return $mailer->getSentMIMEMessage();
	}

	/**
	 * A Date header value as [timestamp, offset in minutes], or false.
	 *
	 * @return array{0: int, 1: int}|false
	 */
	private static function parse_date( string $value ) {
		try {
			$date = new \DateTimeImmutable( $value );
		} catch ( \Exception $e ) {
			return false;
		}
		return array( $date->getTimestamp(), intdiv( $date->getOffset(), 60 ) );
	}

	/**
	 * @param array<int, array> $pairs [address, name] pairs.
	 * @return array<int, array>
	 */
	private static function utf8_names( array $pairs, string $charset ): array {
		return array_map(
			static function ( $pair ) use ( $charset ) {
				return array( (string) $pair[0], self::utf8( (string) ( $pair[1] ?? '' ), $charset ) );
			},
			$pairs
		);
	}

	/**
	 * Text in the message's charset converted to UTF-8 (what smtpcore takes).
	 */
	private static function utf8( string $text, string $charset ): string {
		if ( '' === $text || '' === $charset || 0 === strcasecmp( $charset, 'UTF-8' ) || 0 === strcasecmp( $charset, 'utf8' ) ) {
			return $text;
		}
		if ( function_exists( 'mb_convert_encoding' ) && in_array( strtolower( $charset ), array_map( 'strtolower', mb_list_encodings() ), true ) ) {
			return (string) mb_convert_encoding( $text, 'UTF-8', $charset );
		}
		$converted = function_exists( 'iconv' ) ? @iconv( $charset, 'UTF-8//IGNORE', $text ) : false; // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged
		return false === $converted ? $text : $converted;
	}
}
