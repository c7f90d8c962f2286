<?php
/**
 * wp_mail() through smtpcore.
 *
 * The pre_wp_mail filter takes over after wp_mail() has applied its 'wp_mail'
 * filter. From there this class does what wp_mail() does, step for step (the
 * header parsing, the wp_mail_from, wp_mail_from_name, wp_mail_content_type and
 * wp_mail_charset filters, a PHPMailer instance set up as core sets it up,
 * phpmailer_init), then sends what PHPMailer holds through the smtpcore
 * extension instead of PHPMailer::send(), and ends as core ends: the
 * wp_mail_succeeded or wp_mail_failed action and true or false.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer;

use PHPMailer\PHPMailer\PHPMailer;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The pre_wp_mail handler.
 */
final class Mailer {

	/**
	 * The last message this request tried to send (for the test page).
	 *
	 * @var array<string, mixed>|null
	 */
	private static $last = null;

	/**
	 * True when wp_mail() goes through smtpcore: the extension is loaded and a server is set.
	 */
	public static function active(): bool {
		return Transport::available() && Settings::is_configured();
	}

	/**
	 * The pre_wp_mail filter. A value another plugin returned earlier is respected.
	 *
	 * @param null|bool            $short_circuit Null to let wp_mail() continue.
	 * @param array<string, mixed> $atts          The wp_mail() arguments after the 'wp_mail' filter.
	 * @return null|bool
	 */
	public static function pre_wp_mail( $short_circuit, $atts ) {
		if ( null !== $short_circuit || ! self::active() ) {
			return $short_circuit;
		}
		return self::send( is_array( $atts ) ? $atts : array() );
	}

	/**
	 * What the last send() in this request did: outcome, summary, log_id; null if none.
	 *
	 * @return array<string, mixed>|null
	 */
	public static function last_attempt(): ?array {
		return self::$last;
	}

	/**
	 * Sends one message given as wp_mail() arguments.
	 *
	 * @param array<string, mixed> $atts to, subject, message, headers, attachments (and embeds, WordPress 6.9).
	 * @return bool What wp_mail() returns.
	 */
	public static function send( array $atts ): bool {
		global $phpmailer;

		self::$last  = null;
		$to          = $atts['to'] ?? array();
		$subject     = (string) ( $atts['subject'] ?? '' );
		$message     = (string) ( $atts['message'] ?? '' );
		$headers     = $atts['headers'] ?? array();
		$attachments = $atts['attachments'] ?? array();
		$has_embeds  = array_key_exists( 'embeds', $atts );
		$embeds      = $atts['embeds'] ?? array();
		$raw_headers = self::header_lines( $headers );

		if ( ! is_array( $to ) ) {
			$to = explode( ',', (string) $to );
		}
		if ( ! is_array( $attachments ) ) {
			$attachments = explode( "\n", str_replace( "\r\n", "\n", (string) $attachments ) );
		}
		if ( ! is_array( $embeds ) ) {
			$embeds = explode( "\n", str_replace( "\r\n", "\n", (string) $embeds ) );
		}

		$phpmailer = self::phpmailer( $phpmailer );

		// Headers, parsed as wp_mail() parses them.
		$cc       = array();
		$bcc      = array();
		$reply_to = array();
		$parsed   = array();
		foreach ( $raw_headers as $header ) {
			if ( false === strpos( $header, ':' ) ) {
				if ( false !== stripos( $header, 'boundary=' ) ) {
					$parts    = preg_split( '/boundary=/i', trim( $header ) );
					$boundary = trim( str_replace( array( "'", '"' ), '', $parts[1] ) );
				}
				continue;
			}
			list( $name, $content ) = explode( ':', trim( $header ), 2 );
			$name                   = trim( $name );
			$content                = trim( $content );
			switch ( strtolower( $name ) ) {
				case 'from':
					$bracket_pos = strpos( $content, '<' );
					if ( false !== $bracket_pos ) {
						if ( $bracket_pos > 0 ) {
							$from_name = trim( str_replace( '"', '', substr( $content, 0, $bracket_pos ) ) );
						}
						$from_email = trim( str_replace( '>', '', substr( $content, $bracket_pos + 1 ) ) );
					} elseif ( '' !== trim( $content ) ) {
						$from_email = trim( $content );
					}
					break;
				case 'content-type':
					if ( false !== strpos( $content, ';' ) ) {
						list( $type, $charset_content ) = explode( ';', $content, 2 );
						$content_type                   = trim( $type );
						if ( false !== stripos( $charset_content, 'charset=' ) ) {
							$charset = trim( str_ireplace( array( 'charset=', '"' ), '', $charset_content ) );
						} elseif ( false !== stripos( $charset_content, 'boundary=' ) ) {
							$boundary = trim( str_ireplace( array( 'boundary=', '"' ), '', $charset_content ) );
							$charset  = '';
						}
					} elseif ( '' !== trim( $content ) ) {
						$content_type = trim( $content );
					}
					break;
				case 'cc':
					$cc = array_merge( $cc, explode( ',', $content ) );
					break;
				case 'bcc':
					$bcc = array_merge( $bcc, explode( ',', $content ) );
					break;
				case 'reply-to':
					$reply_to = array_merge( $reply_to, explode( ',', $content ) );
					break;
				default:
					$parsed[ $name ] = $content;
					break;
			}
		}
		$headers = $parsed;

		$phpmailer->clearAllRecipients();
		$phpmailer->clearAttachments();
		$phpmailer->clearCustomHeaders();
		$phpmailer->clearReplyTos();
		$phpmailer->Body     = '';
		$phpmailer->AltBody  = '';
		$phpmailer->Encoding = PHPMailer::ENCODING_8BIT;

		// From: the headers, else the plugin's From settings, else WordPress's default; then the filters.
		if ( ! isset( $from_name ) ) {
			$setting   = (string) Settings::get( 'from_name' );
			$from_name = '' !== $setting ? $setting : 'WordPress';
		}
		if ( ! isset( $from_email ) ) {
			$setting = (string) Settings::get( 'from_email' );
			if ( '' !== $setting ) {
				$from_email = $setting;
			} else {
				$sitename   = wp_parse_url( network_home_url(), PHP_URL_HOST );
				$from_email = 'wordpress@';
				if ( null !== $sitename ) {
					if ( 'www.' === substr( $sitename, 0, 4 ) ) {
						$sitename = substr( $sitename, 4 );
					}
					$from_email .= $sitename;
				}
			}
		}
		/** This filter is documented in wp-includes/pluggable.php */
		$from_email = apply_filters( 'wp_mail_from', $from_email );
		/** This filter is documented in wp-includes/pluggable.php */
		$from_name = apply_filters( 'wp_mail_from_name', $from_name );

		$mail_data = compact( 'to', 'subject', 'message', 'headers', 'attachments' );
		if ( $has_embeds ) {
			$mail_data['embeds'] = $embeds;
		}

		try {
			$phpmailer->setFrom( $from_email, $from_name, false );
		} catch ( \PHPMailer\PHPMailer\Exception $e ) {
			return self::fail( $mail_data, $raw_headers, $e->getMessage(), array( 'category' => 'usage' ), array() );
		}

		$phpmailer->Subject = $subject;
		$phpmailer->Body    = $message;

		foreach ( compact( 'to', 'cc', 'bcc', 'reply_to' ) as $address_header => $addresses ) {
			foreach ( (array) $addresses as $address ) {
				try {
					$recipient_name = '';
					if ( preg_match( '/(.*)<(.+)>/', (string) $address, $matches ) && 3 === count( $matches ) ) {
						$recipient_name = $matches[1];
						$address        = $matches[2];
					}
					switch ( $address_header ) {
						case 'to':
							$phpmailer->addAddress( $address, $recipient_name );
							break;
						case 'cc':
							$phpmailer->addCC( $address, $recipient_name );
							break;
						case 'bcc':
							$phpmailer->addBCC( $address, $recipient_name );
							break;
						case 'reply_to':
							$phpmailer->addReplyTo( $address, $recipient_name );
							break;
					}
				} catch ( \PHPMailer\PHPMailer\Exception $e ) {
					continue;
				}
			}
		}

		$phpmailer->isMail();

		if ( ! isset( $content_type ) ) {
			$content_type = 'text/plain';
		}
		/** This filter is documented in wp-includes/pluggable.php */
		$content_type = apply_filters( 'wp_mail_content_type', $content_type );
		if ( ! empty( $boundary ) && preg_match( '~^multipart/(\S+)~', $content_type, $matches ) ) {
			$content_type = 'multipart/' . strtolower( $matches[1] ) . '; boundary="' . $boundary . '"';
		}
		$phpmailer->ContentType = $content_type;
		if ( 'text/html' === $content_type ) {
			$phpmailer->isHTML( true );
		}

		if ( ! isset( $charset ) ) {
			$charset = get_bloginfo( 'charset' );
		}
		/** This filter is documented in wp-includes/pluggable.php */
		$phpmailer->CharSet = apply_filters( 'wp_mail_charset', $charset );

		foreach ( $headers as $name => $content ) {
			if ( ! in_array( $name, array( 'MIME-Version', 'X-Mailer' ), true ) ) {
				try {
					$phpmailer->addCustomHeader( sprintf( '%1$s: %2$s', $name, $content ) );
				} catch ( \PHPMailer\PHPMailer\Exception $e ) {
					continue;
				}
			}
		}

		foreach ( $attachments as $filename => $attachment ) {
			$filename = is_string( $filename ) ? $filename : '';
			try {
				$phpmailer->addAttachment( $attachment, $filename );
			} catch ( \PHPMailer\PHPMailer\Exception $e ) {
				continue;
			}
		}

		foreach ( $embeds as $key => $embed_path ) {
			/** This filter is documented in wp-includes/pluggable.php (WordPress 6.9) */
			$embed_args = apply_filters(
				'wp_mail_embed_args',
				array(
					'path'        => $embed_path,
					'cid'         => (string) $key,
					'name'        => basename( (string) $embed_path ),
					'encoding'    => 'base64',
					'type'        => '',
					'disposition' => 'inline',
				)
			);
			try {
				$phpmailer->addEmbeddedImage( $embed_args['path'], $embed_args['cid'], $embed_args['name'], $embed_args['encoding'], $embed_args['type'], $embed_args['disposition'] );
			} catch ( \PHPMailer\PHPMailer\Exception $e ) {
				continue;
			}
		}

		/** This action is documented in wp-includes/pluggable.php */
		do_action_ref_array( 'phpmailer_init', array( &$phpmailer ) );

		if ( Settings::get( 'force_from' ) && '' !== (string) Settings::get( 'from_email' ) ) {
			$phpmailer->From = (string) Settings::get( 'from_email' );
			if ( '' !== (string) Settings::get( 'from_name' ) ) {
				$phpmailer->FromName = (string) Settings::get( 'from_name' );
			}
		}

		try {
			$built = Message_Builder::build( $phpmailer, (string) Settings::get( 'return_path' ) );
		} catch ( \InvalidArgumentException | \ValueError | \PHPMailer\PHPMailer\Exception $e ) {
			// ValueError: the extension refuses a NUL in an address, name, subject or body, which
			// PHPMailer lets through; an uncaught Error would end the request instead of wp_mail() = false.
			return self::fail( $mail_data, $raw_headers, $e->getMessage(), array( 'category' => 'usage' ), array() );
		} catch ( \SmtpCore\Exception $e ) {
			return self::fail(
				$mail_data,
				$raw_headers,
				$e->getMessage(),
				array(
					'category' => $e->getCategory(),
					'hint'     => $e->getHint(),
				),
				array()
			);
		}

		$outcome = null !== $built['message']
			? Transport::send_message( $built['message'] )
			: Transport::send_raw( (string) $built['raw'], $built['envelope_from'], $built['recipients'] );

		if ( $outcome['ok'] ) {
			$log_id     = self::log( 'sent', $mail_data, $raw_headers, $built, $outcome );
			self::$last = array(
				'outcome' => $outcome,
				'summary' => $built['summary'],
				'log_id'  => $log_id,
			);
			/** This action is documented in wp-includes/pluggable.php */
			do_action( 'wp_mail_succeeded', $mail_data );
			return true;
		}
		return self::fail( $mail_data, $raw_headers, (string) $outcome['error'], $outcome, $built );
	}

	/**
	 * The failure path: log, keep for the test page, wp_mail_failed, false.
	 *
	 * @param array<string, mixed> $mail_data   What core passes to the mail actions.
	 * @param string[]             $raw_headers Header lines as given (kept for resending).
	 * @param string               $error       The message for WP_Error.
	 * @param array<string, mixed> $outcome     Outcome fields (see Transport).
	 * @param array<string, mixed> $built       What Message_Builder made, if it got that far.
	 */
	private static function fail( array $mail_data, array $raw_headers, string $error, array $outcome, array $built ): bool {
		$outcome = array_merge(
			array(
				'ok'             => false,
				'sent'           => false,
				'code'           => 0,
				'enhanced'       => null,
				'server_message' => null,
				'hint'           => null,
				'category'       => 'local',
				'transcript'     => array(),
				'accepted'       => array(),
				'refused'        => array(),
			),
			$outcome
		);
		$outcome['error'] = $error;
		$status           = $outcome['sent'] ? 'partial' : 'failed';
		$log_id           = self::log( $status, $mail_data, $raw_headers, $built, $outcome );
		self::$last       = array(
			'outcome' => $outcome,
			'summary' => $built['summary'] ?? array(),
			'log_id'  => $log_id,
		);

		$data = array_merge(
			$mail_data,
			array(
				'smtp_code'     => (int) $outcome['code'],
				'enhanced_code' => $outcome['enhanced'],
				'hint'          => $outcome['hint'],
				'category'      => (string) $outcome['category'],
			)
		);
		/** This action is documented in wp-includes/pluggable.php */
		do_action( 'wp_mail_failed', new \WP_Error( 'wp_mail_failed', $error, $data ) );
		return false;
	}

	/**
	 * Writes the log entry for one attempt.
	 *
	 * @return int The entry's id (0 when logging is off).
	 */
	private static function log( string $status, array $mail_data, array $raw_headers, array $built, array $outcome ): int {
		$summary = $built['summary'] ?? array();
		$to      = $summary['to'] ?? array_map( 'trim', (array) $mail_data['to'] );
		$details = array(
			'transport'      => Settings::describe_transport(),
			'extension'      => Transport::version(),
			'from'           => $summary['from'] ?? '',
			'envelope'       => $summary['envelope'] ?? '',
			'cc'             => $summary['cc'] ?? array(),
			'bcc'            => $summary['bcc'] ?? array(),
			'reply_to'       => $summary['reply_to'] ?? array(),
			'content_type'   => $summary['content_type'] ?? '',
			'attachments'    => $summary['attachments'] ?? array(),
			'accepted'       => $outcome['accepted'] ?? array(),
			'refused'        => $outcome['refused'] ?? array(),
			'hint'           => $outcome['hint'] ?? null,
			'server_message' => $outcome['server_message'] ?? null,
			'elapsed_ms'     => $outcome['elapsed_ms'] ?? null,
			'notes'          => $built['notes'] ?? array(),
			'raw'            => isset( $built['raw'] ),
			'args_to'        => array_values( array_map( 'strval', (array) $mail_data['to'] ) ),
		);
		if ( 'sent' !== $status ) {
			$details['transcript'] = $outcome['transcript'] ?? array();
		}
		return Email_Log::add(
			array(
				'status'        => $status,
				'to_addrs'      => implode( ', ', $to ),
				'subject'       => (string) $mail_data['subject'],
				'from_addr'     => (string) ( $summary['from'] ?? '' ),
				'error'         => 'sent' === $status ? '' : (string) ( $outcome['error'] ?? '' ),
				'category'      => 'sent' === $status ? '' : (string) ( $outcome['category'] ?? '' ),
				'smtp_code'     => (int) ( $outcome['code'] ?? 0 ),
				'enhanced_code' => (string) ( $outcome['enhanced'] ?? '' ),
				'server_reply'  => self::reply_line( $outcome ),
				'details'       => $details,
				'headers'       => $raw_headers,
				'message'       => (string) $mail_data['message'],
				'attachments'   => (array) $mail_data['attachments'],
			)
		);
	}

	/**
	 * The server's final reply as one line ("250 2.0.0 Ok: queued as 4Xyz"), or its error reply.
	 *
	 * @param array<string, mixed> $outcome An outcome.
	 */
	public static function reply_line( array $outcome ): string {
		$text = $outcome['ok'] || $outcome['sent'] ? (string) ( $outcome['reply'] ?? '' ) : (string) ( $outcome['server_message'] ?? '' );
		$code = (int) ( $outcome['code'] ?? 0 );
		if ( '' === $text && 0 === $code ) {
			return '';
		}
		$enhanced = (string) ( $outcome['enhanced'] ?? '' );
		if ( '' !== $enhanced && 0 !== strpos( $text, $enhanced ) ) {
			$text = $enhanced . ' ' . $text;
		}
		if ( $code > 0 && 0 !== strpos( $text, (string) $code ) ) {
			$text = $code . ' ' . $text;
		}
		return trim( $text );
	}

	/**
	 * The queue id in a reply like "250 2.0.0 Ok: queued as 4Xyz" (Postfix, Exim, Sendmail and most services), or ''.
	 */
	public static function queue_id( string $reply ): string {
		if ( preg_match( '/queued as\s+<?([A-Za-z0-9._@-]+)>?/i', $reply, $m ) || preg_match( '/\bid=([A-Za-z0-9._-]+)/', $reply, $m ) ) {
			return $m[1];
		}
		return '';
	}

	/**
	 * Header lines as given to wp_mail(), a string or an array, as a list of strings.
	 *
	 * @param mixed $headers String or array.
	 * @return string[]
	 */
	private static function header_lines( $headers ): array {
		if ( empty( $headers ) ) {
			return array();
		}
		if ( ! is_array( $headers ) ) {
			return explode( "\n", str_replace( "\r\n", "\n", (string) $headers ) );
		}
		return array_map( 'strval', array_values( $headers ) );
	}

	/**
	 * WordPress's global PHPMailer, created the way wp_mail() creates it when missing.
	 *
	 * @param mixed $current The global's current value.
	 * @return PHPMailer
	 */
	private static function phpmailer( $current ): PHPMailer {
		if ( $current instanceof PHPMailer ) {
			return $current;
		}
		require_once ABSPATH . WPINC . '/PHPMailer/PHPMailer.php';
		require_once ABSPATH . WPINC . '/PHPMailer/SMTP.php';
		require_once ABSPATH . WPINC . '/PHPMailer/Exception.php';
		if ( file_exists( ABSPATH . WPINC . '/class-wp-phpmailer.php' ) ) {
			require_once ABSPATH . WPINC . '/class-wp-phpmailer.php'; // WordPress 6.8+: translated error messages.
			$mailer = new \WP_PHPMailer( true );
		} else {
			$mailer = new PHPMailer( true );
		}
		$mailer::$validator = static function ( $email ) {
			return (bool) is_email( $email );
		};
		return $mailer;
	}
}
