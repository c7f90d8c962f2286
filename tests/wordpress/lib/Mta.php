<?php
/**
 * The test MTA that run.sh started (tests/servers/mta.py): its ports, CA file,
 * users and Maildirs.
 */

namespace SmtpCoreMailerTests;

final class Mta {

	/** @var array<string, mixed>|null */
	private static $info = null;

	/** @return array<string, mixed> host, ports, ca_file, users, maildir, ... */
	public static function info(): array {
		if ( null === self::$info ) {
			self::$info = json_decode( (string) file_get_contents( (string) getenv( 'SMTPCORE_WP_MTA' ) ), true );
		}
		return self::$info;
	}

	public static function port( string $name ): int {
		return (int) self::info()['ports'][ $name ];
	}

	public static function ca_file(): string {
		return (string) self::info()['ca_file'];
	}

	public static function password( string $user = 'alice@example.test' ): string {
		return (string) self::info()['users'][ $user ];
	}

	/**
	 * Raw messages in a mailbox that contain $token, oldest first.
	 *
	 * @return string[]
	 */
	public static function messages( string $localpart, string $token ): array {
		$dir   = self::info()['maildir'] . '/' . $localpart;
		$found = array();
		foreach ( array( 'new', 'cur' ) as $sub ) {
			foreach ( glob( $dir . '/' . $sub . '/*' ) ?: array() as $file ) {
				$raw = (string) @file_get_contents( $file );
				if ( false !== strpos( $raw, $token ) ) {
					$found[ filemtime( $file ) . ' ' . $file ] = $raw;
				}
			}
		}
		ksort( $found );
		return array_values( $found );
	}

	/**
	 * Waits until $count messages containing $token are in the mailbox.
	 *
	 * @return string[]
	 */
	public static function wait_for( string $localpart, string $token, int $count = 1, float $timeout = 20.0 ): array {
		$deadline = microtime( true ) + $timeout;
		do {
			$messages = self::messages( $localpart, $token );
			if ( count( $messages ) >= $count ) {
				return $messages;
			}
			usleep( 50000 );
		} while ( microtime( true ) < $deadline );
		throw new \RuntimeException( sprintf( '%d message(s) with %s expected in %s, found %d', $count, $token, $localpart, count( $messages ) ) );
	}

	/** One delivered message with $token, parsed. */
	public static function wait_for_one( string $localpart, string $token ): Mime {
		return Mime::parse( self::wait_for( $localpart, $token )[0] );
	}
}
