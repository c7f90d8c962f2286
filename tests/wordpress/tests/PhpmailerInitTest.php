<?php
/**
 * What other plugins do in phpmailer_init is kept: the plugin reads the
 * PHPMailer instance back after the action.
 */

namespace SmtpCoreMailerTests;

final class PhpmailerInitTest extends TestCase {

	public function test_altbody_custom_header_attachments_and_embedded_image_from_phpmailer_init(): void {
		$token = $this->token( 'init' );
		$png   = $this->temp_file( base64_decode( 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==' ), '.png' );
		$pdf   = $this->temp_file( "%PDF-1.4 $token", '.pdf' );
		$this->hook(
			'phpmailer_init',
			static function ( $phpmailer ) use ( $token, $png, $pdf ) {
				$phpmailer->isHTML( true );
				$phpmailer->Body   .= '<img src="cid:logo-' . $token . '">';
				$phpmailer->AltBody = "Plain alternative $token";
				$phpmailer->addCustomHeader( 'X-From-Init', $token );
				$phpmailer->addStringAttachment( "generated $token", 'generated.txt', 'base64', 'text/plain' );
				$phpmailer->addAttachment( $pdf, 'Report.pdf' );
				$phpmailer->addEmbeddedImage( $png, 'logo-' . $token, 'logo.png', 'base64', 'image/png' );
				$phpmailer->addReplyTo( 'erin@example.test', 'Erin' );
				$phpmailer->addBCC( 'dave@example.test' );
			}
		);
		$this->assertTrue( wp_mail( 'bob@example.test', "Init $token", "<p>Hello $token</p>" ) );

		$bob = Mta::wait_for_one( 'bob', $token );
		$this->assertSame( $token, $bob->header( 'x-from-init' ) );
		$this->assertStringContainsString( "Plain alternative $token", $bob->part( 'text/plain' )->body() );
		$this->assertStringContainsString( "<p>Hello $token</p>", $bob->part( 'text/html' )->body() );
		$this->assertSame( "generated $token", $bob->attachment( 'generated.txt' )->body() );
		$this->assertSame( "%PDF-1.4 $token", $bob->attachment( 'Report.pdf' )->body() );
		$this->assertSame( 'application/pdf', $bob->attachment( 'Report.pdf' )->type );
		$this->assertStringContainsString( 'erin@example.test', $bob->decoded( 'reply-to' ) );

		$image = null;
		foreach ( $bob->leaves() as $leaf ) {
			if ( 'logo-' . $token === $leaf->content_id() ) {
				$image = $leaf;
			}
		}
		$this->assertNotNull( $image, 'the embedded image keeps its Content-ID' );
		$this->assertSame( 'image/png', $image->type );
		$this->assertSame( (string) file_get_contents( $png ), $image->body() );
		$this->assertNotSame( 'attachment', $image->disposition() );

		$dave = Mta::wait_for_one( 'dave', $token );
		$this->assertNull( $dave->header( 'bcc' ) );
	}

	public function test_sender_message_id_and_priority_set_in_phpmailer_init(): void {
		$token = $this->token( 'init-fields' );
		$this->hook(
			'phpmailer_init',
			static function ( $phpmailer ) use ( $token ) {
				$phpmailer->Sender    = 'alice@example.test';
				$phpmailer->MessageID = '<' . $token . '@example.test>';
				$phpmailer->Priority  = 1;
			}
		);
		$this->assertTrue( wp_mail( 'bob@example.test', "Fields $token", 'x' ) );
		$bob = Mta::wait_for_one( 'bob', $token );
		$this->assertSame( '<' . $token . '@example.test>', $bob->header( 'message-id' ) );
		$this->assertSame( '1', $bob->header( 'x-priority' ) );
		$this->assertSame( '<alice@example.test>', $bob->header( 'return-path' ) );
	}

	public function test_phpmailer_init_sees_what_wp_mail_set(): void {
		$token = $this->token( 'init-sees' );
		$seen  = new \ArrayObject();
		$this->hook(
			'phpmailer_init',
			static function ( $phpmailer ) use ( $seen ) {
				$seen['from']    = $phpmailer->From;
				$seen['to']      = $phpmailer->getToAddresses();
				$seen['cc']      = $phpmailer->getCcAddresses();
				$seen['type']    = $phpmailer->ContentType;
				$seen['charset'] = $phpmailer->CharSet;
				$seen['headers'] = $phpmailer->getCustomHeaders();
			}
		);
		$this->assertTrue( wp_mail( 'Bob <bob@example.test>', "Sees $token", 'x', array( 'Cc: carol@example.test', 'X-Seen: 1', 'Content-Type: text/html; charset=UTF-8' ) ) );
		$this->assertSame( 'alice@example.test', $seen['from'] );
		$this->assertSame( array( array( 'bob@example.test', 'Bob' ) ), $seen['to'] );
		$this->assertSame( array( array( 'carol@example.test', '' ) ), $seen['cc'] );
		$this->assertSame( 'text/html', $seen['type'] );
		$this->assertSame( 'UTF-8', $seen['charset'] );
		$this->assertSame( array( array( 'X-Seen', '1' ) ), $seen['headers'] );
		Mta::wait_for( 'bob', $token );
	}
	public function test_dkim_and_icalendar_set_in_phpmailer_init(): void {
		$token = $this->token( 'dkim' );
		$key   = openssl_pkey_new( array( 'private_key_bits' => 2048, 'private_key_type' => OPENSSL_KEYTYPE_RSA ) );
		openssl_pkey_export( $key, $pem );
		$ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//smtpcore//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:$token@example.test\r\n"
			. "DTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nDTEND:20260102T110000Z\r\nSUMMARY:Meeting $token\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
		$this->hook(
			'phpmailer_init',
			static function ( $phpmailer ) use ( $pem, $ics ) {
				$phpmailer->DKIM_domain         = 'example.test';
				$phpmailer->DKIM_selector       = 'wp';
				$phpmailer->DKIM_private_string = $pem;
				$phpmailer->Ical                = $ics;
			}
		);
		$this->assertTrue( wp_mail( 'bob@example.test', "DKIM $token", "Body $token" ) );
		$bob = Mta::wait_for_one( 'bob', $token );
		$signature = (string) $bob->header( 'dkim-signature' );
		$this->assertStringContainsString( 'd=example.test', $signature );
		$this->assertStringContainsString( 's=wp', $signature );
		$this->assertMatchesRegularExpression( '/a=rsa-sha256/', $signature );
		$calendar = $bob->part( 'text/calendar' );
		$this->assertNotNull( $calendar, 'a text/calendar part' );
		$this->assertSame( 'request', strtolower( $calendar->params['method'] ?? '' ) );
		$this->assertStringContainsString( "SUMMARY:Meeting $token", str_replace( "\r\n", "\n", $calendar->body() ) );
	}
}
