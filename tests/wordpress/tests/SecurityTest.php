<?php
/**
 * The attacks of the security notes that a front end must re-show (rows marked
 * ★ in tests/SECURITY.md), through wp_mail() itself with the plugin active and
 * the real Postfix behind it: SMTP smuggling, STARTTLS stripping, command
 * injection through CR/LF/NUL, header injection and attachment paths.
 *
 * The "evil" addresses are ones Postfix would deliver if they ever reached it as
 * a recipient (carol+<token>@example.test lands in carol's Maildir; after AUTH,
 * <token>@evil.example lands in the catch-all Maildir), and they carry the
 * token, so "nothing for evil" is read from the Maildirs once Postfix's queue is
 * empty, not inferred from a refusal.
 */

namespace SmtpCoreMailerTests;

use SmtpCoreMailer\Email_Log;

final class SecurityTest extends TestCase {

	/** @var string[] directories and FIFOs to remove in tearDown */
	private $paths = array();

	protected function tearDown(): void {
		foreach ( $this->paths as $path ) {
			is_dir( $path ) && ! is_link( $path ) ? @rmdir( $path ) : @unlink( $path );
		}
		$this->paths = array();
		parent::tearDown();
	}

	public function test_smuggling_patterns_in_the_body_stay_body_text(): void {
		// Once composed by smtpcore (text/plain) and once rendered by PHPMailer and
		// sent as bytes (a caller's multipart body: the plugin's raw path).
		foreach ( array( 'composed', 'raw' ) as $path ) {
			$token    = $this->token( "smuggle-$path" );
			$smuggled = "MAIL FROM:<alice@example.test>\r\n"
				. "RCPT TO:<carol+$token@example.test>\r\n"
				. "RCPT TO:<$token@evil.example>\r\n"
				. "DATA\r\n"
				. "Subject: smuggled $token\r\n\r\n"
				. "smuggled $token\r\n";
			// The advisory patterns, each followed by a whole transaction a server that
			// took it for the end of data would run; then a leading dot, and a last line
			// without a line end.
			$body = ".$token: the first line starts with a dot\r\n"
				. "a\n.\n$smuggled.\r\n"
				. "b\r.\r$smuggled.\r\n"
				. "c\r\n.\n$smuggled.\r\n"
				. "d\n.\r\n$smuggled.\r\n"
				. "e\r\n.\r$smuggled.\r\n"
				. "..two dots\r\n"
				. '.'
				. "\r\nthe last line has no line end";
			$headers  = array();
			$boundary = 'sc-' . bin2hex( random_bytes( 8 ) );
			$sent     = $body;
			if ( 'raw' === $path ) {
				$headers = array( "Content-Type: multipart/mixed; boundary=\"$boundary\"" );
				$sent    = "--$boundary\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n$body\r\n--$boundary--\r\n";
			}

			$this->assertTrue( wp_mail( 'bob@example.test', "Smuggling $token", $sent, $headers ), $path );

			$bob = Mta::wait_for_one( 'bob', $token );
			$this->assertSame( "Smuggling $token", $bob->decoded( 'subject' ) );
			// Every line of the body arrived as text, line breaks as line breaks (bare
			// CR and LF included), dots as they were: nothing was taken for the end of data.
			$text = $bob->part( 'text/plain' );
			$this->assertNotNull( $text, $path );
			$this->assertSame(
				rtrim( preg_replace( '/\r\n|\r|\n/', "\n", $body ), "\n" ),
				rtrim( $text->body(), "\n" ),
				"$path: the body is delivered as text"
			);
			$this->assertSame( 5, substr_count( $text->body(), "\nMAIL FROM:<alice@example.test>\nRCPT TO:<carol+$token@example.test>\n" ), $path );

			// Exactly one message, to bob; nothing for the smuggled recipients.
			Mta::wait_queue_empty();
			$this->assertSame( array( 'bob' => 1 ), Mta::delivered( $token ), "$path: delivered only to bob, once" );
			$log = Mta::postfix_log();
			$this->assertStringNotContainsString( "carol+$token@", $log, "$path: Postfix never saw the smuggled RCPT" );
			$this->assertStringNotContainsString( "$token@evil.example", $log, $path );
		}
	}

	public function test_starttls_stripping_ends_before_auth_or_mail(): void {
		// The plain port offers AUTH but no STARTTLS: what a stripping attacker shows.
		$token = $this->token( 'strip' );
		$this->configure(
			array(
				'port'     => Mta::port( 'plain' ),
				'security' => 'starttls',
			)
		);
		list( $error, $entry ) = $this->send_and_expect_failure( $token, 'bob@example.test', "Stripping $token", "Body $token" );

		$this->assertSame( 'tls', $error->get_error_data()['category'] );
		$this->assertNotEmpty( $error->get_error_data()['hint'] );
		$this->assertSame( 'failed', $entry['status'] );
		$this->assertSame( 'tls', $entry['category'] );
		$transcript = $entry['details']['transcript'];
		$this->assertNotEmpty( preg_grep( '/^S: 250[ -]AUTH\b/', $transcript ), 'the server offered AUTH in clear text' );
		$this->assertNotEmpty( preg_grep( '/^C: EHLO /', $transcript ), 'the session got as far as EHLO' );
		$this->assertSame( array(), array_values( preg_grep( '/^C: (?!EHLO |QUIT)/', $transcript ) ), 'nothing but EHLO (and QUIT) was sent' );
		$this->assertStringNotContainsString( Mta::password(), (string) wp_json_encode( $entry ) );
		$this->assert_nothing_delivered( $token );
	}

	public function test_line_breaks_and_nul_through_wp_mail_are_usage_errors_before_anything_is_written(): void {
		$cases = array(
			// A wp_mail_from filter that tries to add a recipient (PHPMailer CVE-2015-8476).
			'from filter'       => array(
				'filter' => array( 'wp_mail_from', 'alice@example.test' . "\r\nRCPT TO:<carol+%s@example.test>" ),
				'to'     => 'bob@example.test',
			),
			// A To that would close the address and add a command if passed through.
			'CR/LF in a To'     => array( 'to' => "bob@example.test>\r\nRCPT TO:<carol+%s@example.test" ),
			'LF in a To'        => array( 'to' => "bob@example.test>\nRCPT TO:<carol+%s@example.test" ),
			'NUL in a To'       => array( 'to' => "bob@example.test\0carol+%s@example.test" ),
			// A C string would end at the NUL: it must be refused, not cut short.
			'NUL in a name'     => array( 'to' => "Bob\0<carol+%s@example.test> <bob@example.test>" ),
			'NUL in from name'  => array(
				'filter' => array( 'wp_mail_from_name', "Site\0carol+%s@example.test" ),
				'to'     => 'bob@example.test',
			),
			'NUL in the subject' => array(
				'to'      => 'bob@example.test',
				'subject' => "\0\r\nBcc: carol+%s@example.test",
			),
		);
		foreach ( $cases as $label => $case ) {
			$token  = $this->token( 'inject' );
			$filter = null;
			if ( isset( $case['filter'] ) ) {
				$value  = sprintf( $case['filter'][1], $token );
				$filter = static function () use ( $value ) {
					return $value;
				};
				$this->hook( $case['filter'][0], $filter );
			}
			list( $error, $entry ) = $this->send_and_expect_failure( $token, sprintf( $case['to'], $token ), "Injection $token" . sprintf( $case['subject'] ?? '', $token ), "Body $token" );
			$this->assertSame( 'usage', $error->get_error_data()['category'], $label );
			$this->assertSame( 'usage', $entry['category'], $label );
			$this->assertSame( array(), preg_grep( '/^C: /', $entry['details']['transcript'] ?? array() ), "$label: nothing written" );
			$this->assert_nothing_delivered( $token );
			if ( null !== $filter ) {
				remove_filter( $case['filter'][0], $filter );
			}
		}
	}

	public function test_header_injection_is_removed_and_nothing_goes_to_the_injected_address(): void {
		// What PHPMailer does, and so wp_mail() without the plugin: line breaks are
		// taken out of the subject and names (secureHeader), a custom header with a
		// line break in it is dropped (addCustomHeader). The plugin does the same and
		// drops a header with a NUL too.
		$token = $this->token( 'header' );
		$evil  = "carol+$token@example.test";
		$this->hook(
			'wp_mail_from_name',
			static function () use ( $evil ) {
				return "Site\r\nBcc: $evil";
			}
		);
		$events = $this->record_mail_events();
		$ok     = wp_mail(
			'bob@example.test',
			"Hi $token\r\nBcc: $evil",
			"Body $token",
			array(
				"X-Injected: a\r\nBcc: $evil",
				"X-Injected-Lf: a\nBcc: $evil",
				"X-Injected-Cr: a\rBcc: $evil",
				"X-Injected-Nul: a\0Bcc: $evil",
				"X-Fine: $token",
			)
		);
		$this->assertTrue( $ok );
		$this->assertCount( 0, $events['failed'] );

		$bob = Mta::wait_for_one( 'bob', $token );
		$this->assertSame( array( "Hi {$token}Bcc: $evil" ), $bob->headers['subject'], 'one Subject, the whole text in it' );
		$this->assertSame( array( "\"SiteBcc: $evil\" <alice@example.test>" ), $bob->headers['from'] );
		$this->assertSame( array( $token ), $bob->headers['x-fine'] );
		$this->assertSame(
			array( 'content-transfer-encoding', 'content-type', 'date', 'delivered-to', 'from', 'message-id', 'mime-version', 'received', 'return-path', 'subject', 'to', 'x-fine', 'x-original-to' ),
			$this->sorted_header_names( $bob ),
			'exactly the headers meant: no Bcc, none of the X-Injected headers'
		);
		Mta::wait_queue_empty();
		$this->assertSame( array( 'bob' => 1 ), Mta::delivered( $token ), 'nothing for the injected Bcc' );

		$rows  = Email_Log::query( array( 'search' => $token ) );
		$entry = Email_Log::get( (int) $rows['items'][0]['id'] );
		$this->assertSame( 'sent', $entry['status'] );
		$this->assertSame( array(), $entry['details']['bcc'] );
		$this->assertNotEmpty( preg_grep( '/X-Injected-Nul/', $entry['details']['notes'] ), 'the dropped NUL header is noted in the log' );
	}

	public function test_attachments_that_are_not_plain_files_are_skipped_unread(): void {
		// PHPMailer's addAttachment() refuses what is not a readable regular file (and
		// any URL); wp_mail() catches that and sends the rest. The plugin does the same,
		// and smtpcore would refuse such a path again (usage error) if one got past.
		$token = $this->token( 'attach' );
		$base  = sys_get_temp_dir() . '/smtpcore-wp-' . bin2hex( random_bytes( 6 ) );
		$dir   = "$base.dir";
		$fifo  = "$base.fifo";
		$link  = "$base.link";
		$this->assertTrue( mkdir( $dir ) );
		$this->paths[] = $dir;
		$this->assertTrue( posix_mkfifo( $fifo, 0600 ) );
		$this->paths[] = $fifo;
		$this->assertTrue( symlink( '/dev/zero', $link ) );
		$this->paths[] = $link;
		$phar          = $this->temp_file( "not a phar $token", '.phar' );
		$ok_file       = $this->temp_file( "attached $token" );
		$attachments   = array(
			'zero.bin'   => '/dev/zero',
			'dir.bin'    => $dir,
			'fifo.bin'   => $fifo,
			'link.bin'   => $link,
			'phar.txt'   => "phar://$phar/a.txt",
			'file.txt'   => "file://$ok_file",
			'plain.txt'  => $ok_file,
		);

		$events  = $this->record_mail_events();
		$started = microtime( true );
		$ok      = $this->within(
			20,
			static function () use ( $token, $attachments ) {
				return wp_mail( 'bob@example.test', "Attachments $token", "Body $token", '', $attachments );
			}
		);
		$elapsed = microtime( true ) - $started;
		$this->assertTrue( $ok );
		$this->assertCount( 0, $events['failed'] );
		$this->assertLessThan( 10, $elapsed, 'no attachment was read: /dev/zero never ends, a FIFO without a writer blocks' );

		$bob = Mta::wait_for_one( 'bob', $token );
		$this->assertSame( array( 'plain.txt' ), $bob->filenames(), 'only the plain file is attached' );
		$this->assertSame( "attached $token", $bob->attachment( 'plain.txt' )->body() );
		Mta::wait_queue_empty();
		$this->assertSame( array( 'bob' => 1 ), Mta::delivered( $token ) );
		$rows  = Email_Log::query( array( 'search' => $token ) );
		$entry = Email_Log::get( (int) $rows['items'][0]['id'] );
		$this->assertSame( array( 'plain.txt' ), array_column( $entry['details']['attachments'], 'name' ) );
	}

	/**
	 * wp_mail() that must fail: one wp_mail_failed, no wp_mail_succeeded, one log entry.
	 *
	 * @param mixed ...$args wp_mail() arguments.
	 * @return array{0: \WP_Error, 1: array<string, mixed>} the error and the log entry
	 */
	private function send_and_expect_failure( string $token, ...$args ): array {
		$events = $this->record_mail_events();
		$this->assertFalse( wp_mail( ...$args ) );
		$this->assertCount( 0, $events['succeeded'] );
		$this->assertCount( 1, $events['failed'] );
		$error = $events['failed'][0];
		$this->assertInstanceOf( \WP_Error::class, $error );
		$this->assertArrayHasKey( 'category', $error->get_error_data() );
		$rows = Email_Log::query( array( 'search' => $token ) );
		$this->assertSame( 1, $rows['total'], 'one log entry' );
		return array( $error, Email_Log::get( (int) $rows['items'][0]['id'] ) );
	}

	/** Nothing with $token in any Maildir once Postfix has nothing left to deliver. */
	private function assert_nothing_delivered( string $token ): void {
		Mta::wait_queue_empty();
		$this->assertSame( array(), Mta::delivered( $token ), 'nothing delivered' );
	}

	/** @return string[] the header names of a delivered message, lower case, sorted, unique */
	private function sorted_header_names( Mime $message ): array {
		$names = array_keys( $message->headers );
		sort( $names );
		return $names;
	}

	/**
	 * Runs $fn, failing the test (instead of hanging the run) if it takes more than
	 * $seconds: SIGALRM interrupts a blocking system call such as opening a FIFO.
	 *
	 * @return mixed What $fn returns.
	 */
	private function within( int $seconds, callable $fn ) {
		$async = pcntl_async_signals( true );
		pcntl_signal(
			SIGALRM,
			static function () use ( $seconds ) {
				throw new \RuntimeException( "still running after $seconds s" );
			},
			false
		);
		pcntl_alarm( $seconds );
		try {
			return $fn();
		} finally {
			pcntl_alarm( 0 );
			pcntl_signal( SIGALRM, SIG_DFL );
			pcntl_async_signals( $async );
		}
	}
}
