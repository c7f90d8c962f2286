<?php
/**
 * The way out: one SmtpCore\Client per request, reused for every message the
 * request sends, and one outcome shape for success and failure.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Sends through the smtpcore extension and reports what happened.
 */
final class Transport {

	/**
	 * @var \SmtpCore\Client|null
	 */
	private static $client = null;

	/**
	 * Fingerprint of the options $client was made with.
	 *
	 * @var string
	 */
	private static $client_key = '';

	/**
	 * True when the smtpcore extension is loaded.
	 */
	public static function available(): bool {
		return extension_loaded( 'smtpcore' ) && class_exists( '\\SmtpCore\\Client' );
	}

	/**
	 * The extension's version, or '' without it.
	 */
	public static function version(): string {
		return function_exists( 'SmtpCore\\version' ) ? (string) \SmtpCore\version() : '';
	}

	/**
	 * Sends a composed message to its To, Cc and Bcc.
	 *
	 * @param \SmtpCore\Message $message The message.
	 * @return array<string, mixed> The outcome (see outcome()).
	 */
	public static function send_message( $message ): array {
		return self::attempt(
			static function ( $client ) use ( $message ) {
				return $client->send( $message );
			}
		);
	}

	/**
	 * Sends RFC 5322 bytes as they are.
	 *
	 * @param string   $bytes      The message.
	 * @param string   $from       Envelope sender.
	 * @param string[] $recipients Envelope recipients.
	 * @return array<string, mixed> The outcome.
	 */
	public static function send_raw( string $bytes, string $from, array $recipients ): array {
		return self::attempt(
			static function ( $client ) use ( $bytes, $from, $recipients ) {
				return $client->sendRaw( $bytes, $from, $recipients );
			}
		);
	}

	/**
	 * Closes the connection (QUIT); the next send opens a new one.
	 */
	public static function close(): void {
		if ( null !== self::$client ) {
			try {
				self::$client->close();
			} catch ( \Throwable $e ) { // phpcs:ignore Generic.CodeAnalysis.EmptyStatement.DetectedCatch
				// The connection is going away either way.
			}
		}
		self::$client     = null;
		self::$client_key = '';
	}

	/**
	 * Runs one send and turns the result or the exception into an outcome.
	 *
	 * @param callable $send Takes the client, returns a SmtpCore\Result.
	 * @return array<string, mixed>
	 */
	private static function attempt( callable $send ): array {
		$started = microtime( true );
		$client  = null;
		try {
			$client  = self::client();
			$result  = $send( $client );
			$outcome = self::from_result( $result, $client->transcript() );
		} catch ( \SmtpCore\Exception $e ) {
			$outcome = self::from_exception( $e );
			self::close(); // After a failure, start the next message on a fresh connection.
		} catch ( \Throwable $e ) {
			// Bad option values (ValueError, TypeError) and anything else unexpected.
			$outcome = self::outcome(
				array(
					'error'    => $e->getMessage(),
					'category' => 'usage',
				)
			);
			self::close();
		}
		$outcome['elapsed_ms'] = (int) round( ( microtime( true ) - $started ) * 1000 );
		return $outcome;
	}

	/**
	 * The client for the current settings, reused while they do not change.
	 *
	 * @return \SmtpCore\Client
	 */
	private static function client() {
		$options = Settings::client_options();
		$key     = hash( 'sha256', serialize( $options ) ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.serialize_serialize
		if ( null === self::$client || $key !== self::$client_key ) {
			self::close();
			self::$client     = new \SmtpCore\Client( $options );
			self::$client_key = $key;
		}
		return self::$client;
	}

	/**
	 * @param \SmtpCore\Result $result     What the server said.
	 * @param string[]         $transcript The client's transcript of this send.
	 * @return array<string, mixed>
	 */
	private static function from_result( $result, array $transcript ): array {
		$refused = $result->refused();
		$outcome = self::outcome(
			array(
				'ok'         => $result->ok(),
				'sent'       => true,
				'code'       => $result->code(),
				'enhanced'   => $result->enhancedCode(),
				'reply'      => $result->message(),
				'accepted'   => $result->accepted(),
				'refused'    => $refused,
				'transcript' => $transcript,
			)
		);
		if ( ! $result->ok() ) {
			// Some recipients were refused: PHPMailer reports that as a failure, and so do we.
			$first               = reset( $refused );
			$outcome['category'] = 'recipient';
			$outcome['error']    = sprintf(
				/* translators: %s: list of refused addresses */
				__( 'The server refused these recipients: %s', 'smtpcore-mailer' ),
				implode( ', ', array_keys( $refused ) )
			);
			if ( is_array( $first ) ) {
				$outcome['code']           = (int) ( $first['code'] ?? 0 );
				$outcome['enhanced']       = $first['enhanced'] ?? null;
				$outcome['server_message'] = (string) ( $first['message'] ?? '' );
			}
		}
		return $outcome;
	}

	/**
	 * @param \SmtpCore\Exception $e The failure.
	 * @return array<string, mixed>
	 */
	private static function from_exception( $e ): array {
		$result   = method_exists( $e, 'getResult' ) ? $e->getResult() : null;
		$accepted = array();
		$refused  = array();
		if ( is_object( $result ) ) {
			$accepted = $result->accepted();
			$refused  = $result->refused();
		}
		return self::outcome(
			array(
				'error'          => $e->getMessage(),
				'category'       => $e->getCategory(),
				'code'           => $e->getSmtpCode(),
				'enhanced'       => $e->getEnhancedCode(),
				'server_message' => $e->getServerMessage(),
				'hint'           => $e->getHint(),
				'transcript'     => $e->getTranscript(),
				'accepted'       => $accepted,
				'refused'        => $refused,
			)
		);
	}

	/**
	 * The outcome shape: ok (every recipient accepted), sent (the server took the
	 * message for someone), code, enhanced, reply (final reply text), accepted,
	 * refused, error, category, server_message, hint, transcript.
	 *
	 * @param array<string, mixed> $values Fields to set.
	 * @return array<string, mixed>
	 */
	private static function outcome( array $values ): array {
		return array_merge(
			array(
				'ok'             => false,
				'sent'           => false,
				'code'           => 0,
				'enhanced'       => null,
				'reply'          => '',
				'accepted'       => array(),
				'refused'        => array(),
				'error'          => '',
				'category'       => '',
				'server_message' => null,
				'hint'           => null,
				'transcript'     => array(),
			),
			$values
		);
	}
}
