<?php
/**
 * wp_mail() through the plugin to the real Postfix: WordPress's contract
 * (headers as a string or an array, Cc/Bcc/Reply-To, named attachments, the
 * wp_mail* filters, wp_mail_succeeded, the return value), checked in the
 * delivered messages.
 */

namespace SmtpCoreMailerTests;

final class SendingTest extends TestCase {

	public function test_string_headers_with_cc_bcc_reply_to_and_a_custom_header(): void {
		$token   = $this->token( 'string-headers' );
		$headers = "From: Site Robot <alice@example.test>\r\n"
			. "Cc: Carol <carol@example.test>\r\n"
			. "Bcc: dave@example.test\r\n"
			. "Reply-To: Erin <erin@example.test>\r\n"
			. "X-Test-Token: $token";
		$ok = wp_mail( 'Bob <bob@example.test>', "Subject $token", "Hello Bob,\nthis is $token.\n", $headers );
		$this->assertTrue( $ok );

		$bob = Mta::wait_for_one( 'bob', $token );
		$this->assertSame( "Subject $token", $bob->decoded( 'subject' ) );
		$this->assertSame( 'Site Robot <alice@example.test>', str_replace( '"', '', $bob->decoded( 'from' ) ) );
		$this->assertStringContainsString( 'bob@example.test', $bob->decoded( 'to' ) );
		$this->assertStringContainsString( 'carol@example.test', $bob->decoded( 'cc' ) );
		$this->assertStringContainsString( 'erin@example.test', $bob->decoded( 'reply-to' ) );
		$this->assertSame( $token, $bob->header( 'x-test-token' ) );
		$this->assertNull( $bob->header( 'bcc' ), 'Bcc never appears in the headers' );
		$this->assertStringContainsString( "this is $token.", $bob->part( 'text/plain' )->body() );
		$this->assertSame( '<alice@example.test>', $bob->header( 'return-path' ) );

		// Cc and Bcc recipients got it too, and the Bcc stays hidden from them as well.
		$carol = Mta::wait_for_one( 'carol', $token );
		$dave  = Mta::wait_for_one( 'dave', $token );
		$this->assertNull( $carol->header( 'bcc' ) );
		$this->assertNull( $dave->header( 'bcc' ) );
		$this->assertStringNotContainsString( 'dave@example.test', $dave->header( 'to' ) . $dave->header( 'cc' ) );
	}

	public function test_array_headers_and_named_attachments(): void {
		$token = $this->token( 'array-headers' );
		$csv   = $this->temp_file( "a,b\n1,2\n$token\n", '.csv' );
		$bin   = $this->temp_file( random_bytes( 3000 ) . $token, '.bin' );
		$ok    = wp_mail(
			array( 'bob@example.test', 'Carol <carol@example.test>' ),
			"Attachments $token",
			"See the files ($token).",
			array( 'Cc: erin@example.test', 'X-Array-Header: yes', 'Content-Type: text/plain; charset=UTF-8' ),
			array(
				'Zahlen März.csv' => $csv,
				$bin,
			)
		);
		$this->assertTrue( $ok );

		$bob = Mta::wait_for_one( 'bob', $token );
		$this->assertSame( 'yes', $bob->header( 'x-array-header' ) );
		$this->assertStringContainsString( 'erin@example.test', $bob->decoded( 'cc' ) );
		$this->assertStringContainsString( 'carol@example.test', $bob->decoded( 'to' ) );
		$this->assertContains( 'Zahlen März.csv', $bob->filenames(), 'the array key names the attachment' );
		$this->assertContains( basename( $bin ), $bob->filenames(), 'without a key, the file name is used' );
		$this->assertSame( (string) file_get_contents( $csv ), $bob->attachment( 'Zahlen März.csv' )->body() );
		$this->assertSame( (string) file_get_contents( $bin ), $bob->attachment( basename( $bin ) )->body() );
		$this->assertSame( 'attachment', $bob->attachment( basename( $bin ) )->disposition() );
		Mta::wait_for( 'carol', $token );
		Mta::wait_for( 'erin', $token );
	}

	public function test_html_through_the_wp_mail_content_type_filter(): void {
		$token = $this->token( 'html' );
		$this->hook(
			'wp_mail_content_type',
			static function () {
				return 'text/html';
			}
		);
		$this->assertTrue( wp_mail( 'bob@example.test', "HTML $token", "<p>Hello <b>$token</b></p>" ) );
		$bob  = Mta::wait_for_one( 'bob', $token );
		$html = $bob->part( 'text/html' );
		$this->assertNotNull( $html, 'an HTML part' );
		$this->assertStringContainsString( "<p>Hello <b>$token</b></p>", $html->body() );
		$this->assertNull( $bob->part( 'text/plain' ), 'no plain part unless someone sets AltBody' );
	}

	public function test_the_wp_mail_filter_and_the_from_filters_apply(): void {
		$token = $this->token( 'filters' );
		$this->configure( array( 'return_path' => 'alice@example.test' ) ); // Postfix lets alice send only as alice.
		$this->hook(
			'wp_mail',
			static function ( $atts ) use ( $token ) {
				$atts['subject'] = "Filtered $token";
				$atts['to']      = 'carol@example.test';
				return $atts;
			}
		);
		$this->hook(
			'wp_mail_from',
			static function () {
				return 'noreply@example.test';
			}
		);
		$this->hook(
			'wp_mail_from_name',
			static function () {
				return 'Nö Reply';
			}
		);
		$this->assertTrue( wp_mail( 'bob@example.test', 'Original', "Body $token" ) );
		$carol = Mta::wait_for_one( 'carol', $token );
		$this->assertSame( "Filtered $token", $carol->decoded( 'subject' ) );
		$this->assertSame( 'Nö Reply <noreply@example.test>', str_replace( '"', '', $carol->decoded( 'from' ) ) );
		$this->assertSame( '<alice@example.test>', $carol->header( 'return-path' ), 'the Return-Path setting is the envelope sender' );
		$this->assertSame( array(), Mta::messages( 'bob', $token ), 'the wp_mail filter changed the recipient' );
	}

	public function test_force_from_overrides_headers_filters_and_plugins(): void {
		$token = $this->token( 'force-from' );
		$this->configure(
			array(
				'force_from' => true,
				'from_email' => 'alice@example.test',
				'from_name'  => 'The Forced Name',
			)
		);
		$this->hook(
			'wp_mail_from',
			static function () {
				return 'someone-else@example.test';
			}
		);
		$this->assertTrue( wp_mail( 'bob@example.test', "Forced $token", 'x', 'From: Other <other@example.test>' ) );
		$bob = Mta::wait_for_one( 'bob', $token );
		$this->assertSame( 'The Forced Name <alice@example.test>', str_replace( '"', '', $bob->decoded( 'from' ) ) );
	}

	public function test_default_from_comes_from_the_settings(): void {
		$token = $this->token( 'default-from' );
		$this->configure( array( 'from_name' => 'Configured Name' ) );
		$this->assertTrue( wp_mail( 'bob@example.test', "Default from $token", 'x' ) );
		$bob = Mta::wait_for_one( 'bob', $token );
		$this->assertSame( 'Configured Name <alice@example.test>', str_replace( '"', '', $bob->decoded( 'from' ) ) );
	}

	public function test_the_wp_mail_charset_filter_latin1_body_arrives_intact(): void {
		$token = $this->token( 'latin1' );
		$this->hook(
			'wp_mail_charset',
			static function () {
				return 'ISO-8859-1';
			}
		);
		$body    = mb_convert_encoding( "Grüße aus Köln, $token", 'ISO-8859-1', 'UTF-8' );
		$subject = mb_convert_encoding( "Grüße $token", 'ISO-8859-1', 'UTF-8' );
		$this->assertTrue( wp_mail( 'bob@example.test', $subject, $body ) );
		$bob = Mta::wait_for_one( 'bob', $token );
		$this->assertSame( "Grüße $token", $bob->decoded( 'subject' ) );
		$this->assertStringContainsString( "Grüße aus Köln, $token", $bob->part( 'text/plain' )->body() );
	}

	public function test_wp_mail_succeeded_fires_with_core_data_and_true_is_returned(): void {
		$token  = $this->token( 'succeeded' );
		$events = $this->record_mail_events();
		$file   = $this->temp_file( $token );
		$result = wp_mail( 'bob@example.test, carol@example.test', "Succeeded $token", "Body $token", array( 'X-A: b' ), array( $file ) );
		$this->assertTrue( $result );
		$this->assertCount( 0, $events['failed'] );
		$this->assertCount( 1, $events['succeeded'] );
		$data = $events['succeeded'][0];
		foreach ( array( 'to', 'subject', 'message', 'headers', 'attachments' ) as $key ) {
			$this->assertArrayHasKey( $key, $data );
		}
		$this->assertSame( array( 'bob@example.test', ' carol@example.test' ), $data['to'], 'to as core splits it' );
		$this->assertSame( "Succeeded $token", $data['subject'] );
		$this->assertSame( array( 'X-A' => 'b' ), $data['headers'], 'headers as core parses them' );
		$this->assertSame( array( $file ), $data['attachments'] );
		Mta::wait_for( 'bob', $token );
		Mta::wait_for( 'carol', $token );
	}

	public function test_a_multipart_body_with_its_own_boundary_is_sent_as_given(): void {
		$token = $this->token( 'multipart' );
		$body  = "--XyZ\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nplain $token\r\n"
			. "--XyZ\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>html $token</p>\r\n--XyZ--\r\n";
		$this->assertTrue( wp_mail( 'bob@example.test', "Multipart $token", $body, array( 'Content-Type: multipart/alternative; boundary="XyZ"' ) ) );
		$bob = Mta::wait_for_one( 'bob', $token );
		$this->assertSame( 'multipart/alternative', $bob->type );
		$this->assertSame( 'XyZ', $bob->params['boundary'] );
		$this->assertStringContainsString( "plain $token", $bob->part( 'text/plain' )->body() );
		$this->assertStringContainsString( "<p>html $token</p>", $bob->part( 'text/html' )->body() );
	}

	public function test_implicit_tls_port_and_connection_reuse_within_a_request(): void {
		$token = $this->token( 'smtps' );
		$this->configure(
			array(
				'port'     => Mta::port( 'smtps' ),
				'security' => 'tls',
			)
		);
		for ( $i = 1; $i <= 3; $i++ ) {
			$this->assertTrue( wp_mail( 'bob@example.test', "SMTPS $i $token", "n=$i" ) );
		}
		$this->assertCount( 3, Mta::wait_for( 'bob', $token, 3 ) );
	}

	public function test_a_pre_wp_mail_value_from_another_plugin_is_respected(): void {
		$token = $this->token( 'blocked' );
		$this->hook(
			'pre_wp_mail',
			static function () {
				return false; // e.g. a "disable emails" plugin
			}
		);
		$before = \SmtpCoreMailer\Email_Log::query( array( 'search' => $token ) )['total'];
		$this->assertFalse( wp_mail( 'bob@example.test', "Blocked $token", 'x' ) );
		$this->assertSame( $before, \SmtpCoreMailer\Email_Log::query( array( 'search' => $token ) )['total'] );
		usleep( 300000 );
		$this->assertSame( array(), Mta::messages( 'bob', $token ) );
	}
}
