<?php
/**
 * Failures: wp_mail() returns false and wp_mail_failed gets a WP_Error with
 * core's data keys plus smtp_code, enhanced_code, hint and category; the log
 * keeps the details.
 */

namespace SmtpCoreMailerTests;

use SmtpCoreMailer\Email_Log;

final class FailureTest extends TestCase {

	/**
	 * @return array{0: \WP_Error, 1: array<string, mixed>} the error and the log entry
	 */
	private function send_and_expect_failure( string $to, string $subject, string $body = 'x', $headers = '', array $attachments = array() ): array {
		$events = $this->record_mail_events();
		$this->assertFalse( wp_mail( $to, $subject, $body, $headers, $attachments ) );
		$this->assertCount( 0, $events['succeeded'] );
		$this->assertCount( 1, $events['failed'] );
		$error = $events['failed'][0];
		$this->assertInstanceOf( \WP_Error::class, $error );
		$this->assertSame( 'wp_mail_failed', $error->get_error_code() );
		$data = $error->get_error_data();
		foreach ( array( 'to', 'subject', 'message', 'headers', 'attachments', 'smtp_code', 'enhanced_code', 'hint', 'category' ) as $key ) {
			$this->assertArrayHasKey( $key, $data, "WP_Error data has $key" );
		}
		$this->assertSame( $subject, $data['subject'] );
		$this->assertSame( $body, $data['message'] );
		$this->assertSame( $attachments, $data['attachments'] );
		$rows = Email_Log::query( array( 'search' => $subject ) );
		$this->assertSame( 1, $rows['total'], 'one log entry' );
		return array( $error, Email_Log::get( (int) $rows['items'][0]['id'] ) );
	}

	public function test_wrong_password(): void {
		$token = $this->token( 'wrong-password' );
		$this->configure( array( 'password' => 'not the password' ) );
		list( $error, $entry ) = $this->send_and_expect_failure( 'bob@example.test', "Wrong password $token", 'x', array( 'X-A: b' ) );
		$data = $error->get_error_data();
		$this->assertSame( 'auth', $data['category'] );
		$this->assertSame( 535, $data['smtp_code'] );
		$this->assertSame( '5.7.8', $data['enhanced_code'] );
		$this->assertNotEmpty( $data['hint'] );
		$this->assertSame( array( 'bob@example.test' ), $data['to'] );
		$this->assertSame( array( 'X-A' => 'b' ), $data['headers'] );
		$this->assertStringContainsString( '535', $error->get_error_message() );

		$this->assertSame( 'failed', $entry['status'] );
		$this->assertSame( 'auth', $entry['category'] );
		$this->assertSame( 535, $entry['smtp_code'] );
		$transcript = implode( "\n", $entry['details']['transcript'] );
		$this->assertStringContainsString( 'AUTH', $transcript );
		$this->assertStringNotContainsString( 'not the password', $transcript );
		$this->assertStringNotContainsString( base64_encode( "\0alice@example.test\0not the password" ), $transcript );
		$this->assertStringNotContainsString( 'not the password', (string) wp_json_encode( $entry ) );
	}

	public function test_unknown_recipient_on_the_mx_port(): void {
		$token = $this->token( 'unknown-rcpt' );
		$this->configure(
			array(
				'port' => Mta::port( 'mx' ),
				'auth' => false,
			)
		);
		list( $error, $entry ) = $this->send_and_expect_failure( 'nobody@example.test', "Unknown $token" );
		$data = $error->get_error_data();
		$this->assertSame( 'recipient', $data['category'] );
		$this->assertSame( 550, $data['smtp_code'] );
		$this->assertSame( '5.1.1', $data['enhanced_code'] );
		$this->assertNotEmpty( $data['hint'] );
		$this->assertSame( 'failed', $entry['status'] );
		$this->assertArrayHasKey( 'nobody@example.test', $entry['details']['refused'] );
	}

	public function test_one_refused_recipient_fails_like_phpmailer_but_the_others_get_it(): void {
		$token = $this->token( 'partial' );
		$this->configure(
			array(
				'port' => Mta::port( 'mx' ),
				'auth' => false,
			)
		);
		list( $error, $entry ) = $this->send_and_expect_failure( 'bob@example.test, nobody@example.test', "Partial $token", "Body $token" );
		$this->assertSame( 'recipient', $error->get_error_data()['category'] );
		$this->assertStringContainsString( 'nobody@example.test', $error->get_error_message() );
		$this->assertSame( 'partial', $entry['status'] );
		$this->assertSame( array( 'bob@example.test' ), $entry['details']['accepted'] );
		Mta::wait_for( 'bob', $token );
	}

	public function test_a_sender_the_account_does_not_own(): void {
		$token = $this->token( 'sender' );
		$this->configure( array( 'from_email' => 'bob@example.test' ) ); // bob's address; alice is logged in
		list( $error ) = $this->send_and_expect_failure( 'bob@example.test', "Sender $token" );
		$data = $error->get_error_data();
		$this->assertSame( 'sender', $data['category'] );
		$this->assertSame( 553, $data['smtp_code'] );
		$this->assertNotEmpty( $data['hint'] );
	}

	public function test_a_certificate_for_another_host_name_is_refused(): void {
		$token = $this->token( 'wrongcert' );
		$this->configure( array( 'port' => Mta::port( 'wrongcert' ) ) );
		list( $error, $entry ) = $this->send_and_expect_failure( 'bob@example.test', "Wrong cert $token" );
		$this->assertSame( 'tls', $error->get_error_data()['category'] );
		$this->assertNotEmpty( $error->get_error_data()['hint'] );
		$this->assertSame( 'tls', $entry['category'] );
	}

	public function test_nothing_listening(): void {
		$token  = $this->token( 'connect' );
		$socket = stream_socket_server( 'tcp://127.0.0.1:0' );
		$port   = (int) substr( strrchr( stream_socket_get_name( $socket, false ), ':' ), 1 );
		fclose( $socket ); // a port nobody listens on
		$this->configure( array( 'port' => $port ) );
		$started       = microtime( true );
		list( $error ) = $this->send_and_expect_failure( 'bob@example.test', "Connect $token" );
		$this->assertSame( 'connect', $error->get_error_data()['category'] );
		$this->assertSame( 0, $error->get_error_data()['smtp_code'] );
		$this->assertLessThan( 5, microtime( true ) - $started );
	}

	public function test_no_valid_recipient(): void {
		$token         = $this->token( 'no-rcpt' );
		list( $error ) = $this->send_and_expect_failure( 'not an address', "No recipient $token" );
		$this->assertSame( 'usage', $error->get_error_data()['category'] );
		$this->assertStringContainsString( 'recipient', $error->get_error_message() );
	}

	public function test_an_invalid_from_address_from_a_filter(): void {
		$token = $this->token( 'bad-from' );
		$this->hook(
			'wp_mail_from',
			static function () {
				return 'not-an-address';
			}
		);
		list( $error ) = $this->send_and_expect_failure( 'bob@example.test', "Bad from $token" );
		$this->assertSame( 'usage', $error->get_error_data()['category'] );
	}
}
