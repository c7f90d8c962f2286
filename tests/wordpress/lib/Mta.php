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

	/** @return string[] every Maildir: the local users' and the catch-all for other domains. */
	public static function mailboxes(): array {
		return array_merge( (array) self::info()['mailboxes'], array( (string) self::info()['relayed_mailbox'] ) );
	}

	/**
	 * How many messages with $token each Maildir holds (only those holding some).
	 *
	 * @return array<string, int>
	 */
	public static function delivered( string $token ): array {
		$counts = array();
		foreach ( self::mailboxes() as $mailbox ) {
			$n = count( self::messages( $mailbox, $token ) );
			if ( $n > 0 ) {
				$counts[ $mailbox ] = $n;
			}
		}
		return $counts;
	}

	/**
	 * Waits until Postfix has finished with everything it accepted (nothing left
	 * in its incoming, active, deferred or hold queue; as mta.py's wait_queue_empty),
	 * so that a delivery that is not there afterwards will not come.
	 */
	public static function wait_queue_empty( float $timeout = 20.0 ): void {
		$spool    = self::info()['workdir'] . '/postfix/spool';
		$deadline = microtime( true ) + $timeout;
		do {
			$left = 0;
			foreach ( array( 'incoming', 'active', 'deferred', 'hold' ) as $queue ) {
				if ( ! is_dir( "$spool/$queue" ) ) {
					continue;
				}
				$files = new \RecursiveIteratorIterator( new \RecursiveDirectoryIterator( "$spool/$queue", \FilesystemIterator::SKIP_DOTS ) );
				foreach ( $files as $file ) {
					$left += $file->isFile() ? 1 : 0;
				}
			}
			if ( 0 === $left ) {
				return;
			}
			usleep( 20000 );
		} while ( microtime( true ) < $deadline );
		throw new \RuntimeException( "the Postfix queue still holds $left message(s) after {$timeout} s" );
	}

	/** What the Postfix log holds so far. */
	public static function postfix_log(): string {
		return (string) @file_get_contents( (string) self::info()['logs'][0] );
	}

	/** One delivered message with $token, parsed. */
	public static function wait_for_one( string $localpart, string $token ): Mime {
		return Mime::parse( self::wait_for( $localpart, $token )[0] );
	}
}
