<?php
/**
 * Settings: the password is stored encrypted under a key from wp-config.php,
 * constants override and lock fields, presets fill the server, and without
 * the extension WordPress's own mailer stays in charge (with a notice).
 */

namespace SmtpCoreMailerTests;

use SmtpCoreMailer\Crypto;
use SmtpCoreMailer\Settings;

final class SettingsTest extends TestCase {

	public function test_the_password_is_stored_encrypted_under_the_salt_key(): void {
		global $wpdb;
		$this->configure( array( 'password' => 'correct horse battery' ) );
		$raw = (string) $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", Settings::OPTION ) );
		$this->assertStringNotContainsString( 'correct horse battery', $raw );
		$this->assertStringNotContainsString( base64_encode( 'correct horse battery' ), $raw );
		$stored = get_option( Settings::OPTION );
		$this->assertArrayNotHasKey( 'password', $stored );
		$this->assertStringStartsWith( 'scm1:', $stored['password_enc'] );
		$this->assertSame( 'salts', Crypto::key_source(), 'no SMTPCORE_KEY here: the key comes from AUTH_KEY and SECURE_AUTH_KEY' );
		$this->assertSame( 'correct horse battery', Crypto::decrypt( $stored['password_enc'] ) );
		$this->assertSame( 'correct horse battery', Settings::get( 'password' ) );
		$this->assertSame( 'stored', Settings::password_source() );

		// Authenticated encryption: a changed byte is refused, not decrypted to garbage.
		$raw_ct    = base64_decode( substr( $stored['password_enc'], 5 ) );
		$raw_ct[20] = chr( ord( $raw_ct[20] ) ^ 1 );
		$this->assertNull( Crypto::decrypt( 'scm1:' . base64_encode( $raw_ct ) ) );

		// Saving again without a password keeps the stored one (the form never shows it).
		$before = $stored['password_enc'];
		update_option( Settings::OPTION, array_merge( $stored, array( 'password' => '', 'host' => '127.0.0.1' ) ) );
		$this->assertSame( $before, get_option( Settings::OPTION )['password_enc'] );

		// And sending works with the decrypted password.
		$token = $this->token( 'encrypted' );
		$this->assertTrue( wp_mail( 'bob@example.test', "Encrypted $token", 'x' ) );
		Mta::wait_for( 'bob', $token );
	}

	public function test_smtpcore_key_encrypts_and_another_key_cannot_decrypt(): void {
		$result = $this->run_in_wordpress(
			'$result = array(
				"source" => SmtpCoreMailer\Crypto::key_source(),
				"enc"    => SmtpCoreMailer\Crypto::encrypt( "secret from key" ),
			);',
			array( 'SMTPCORE_KEY' => str_repeat( 'k', 40 ) )
		);
		$this->assertSame( 'SMTPCORE_KEY', $result['source'] );
		$this->assertStringStartsWith( 'scm1:', $result['enc'] );
		$this->assertNull( Crypto::decrypt( $result['enc'] ), 'the salt key cannot open what SMTPCORE_KEY sealed' );

		$again = $this->run_in_wordpress(
			'$result = SmtpCoreMailer\Crypto::decrypt( ' . var_export( $result['enc'], true ) . ' );',
			array( 'SMTPCORE_KEY' => str_repeat( 'k', 40 ) )
		);
		$this->assertSame( 'secret from key', $again );
	}

	public function test_clearing_the_password(): void {
		$this->configure( array( 'password' => 'to be removed' ) );
		update_option( Settings::OPTION, array( 'password_clear' => '1' ) );
		$this->assertSame( '', get_option( Settings::OPTION )['password_enc'] );
		$this->assertSame( 'none', Settings::password_source() );
	}

	public function test_invalid_values_are_refused_and_the_old_ones_kept(): void {
		$this->configure();
		update_option(
			Settings::OPTION,
			array(
				'host'       => "evil.example\r\nRCPT TO:<x>",
				'port'       => '99999',
				'security'   => 'ssl3',
				'from_email' => 'not an address',
			)
		);
		$stored = get_option( Settings::OPTION );
		$this->assertSame( '127.0.0.1', $stored['host'] );
		$this->assertSame( Mta::port( 'submission' ), $stored['port'] );
		$this->assertSame( 'starttls', $stored['security'] );
		$this->assertSame( 'alice@example.test', $stored['from_email'] );
	}

	public function test_wp_config_constants_override_and_lock_fields(): void {
		update_option(
			Settings::OPTION,
			array(
				'host'     => 'db-host.invalid',
				'port'     => 2,
				'username' => 'db-user',
				'password' => 'db password',
			)
		);
		$token  = $this->token( 'constants' );
		$result = $this->run_in_wordpress(
			'$r = array();
			foreach ( array( "host", "port", "security", "username", "ca_file", "from_email" ) as $f ) {
				$r["get"][ $f ]  = SmtpCoreMailer\Settings::get( $f );
				$r["lock"][ $f ] = SmtpCoreMailer\Settings::locking_constant( $f );
			}
			$r["lock"]["return_path"] = SmtpCoreMailer\Settings::locking_constant( "return_path" );
			$r["source"] = SmtpCoreMailer\Settings::password_source();
			$r["sent"]   = wp_mail( "bob@example.test", "Constants ' . $token . '", "x" );
			// The saved value of a locked field is kept, whatever is submitted.
			update_option( SmtpCoreMailer\Settings::OPTION, array( "_form" => "1", "host" => "submitted.invalid", "password" => "submitted" ) );
			$r["stored_host"] = get_option( SmtpCoreMailer\Settings::OPTION )["host"];
			$r["stored_pass"] = SmtpCoreMailer\Crypto::decrypt( get_option( SmtpCoreMailer\Settings::OPTION )["password_enc"] );
			// How the settings page shows locked fields.
			ob_start();
			SmtpCoreMailer\Admin\Settings_Page::field( array( "field" => "host" ) );
			SmtpCoreMailer\Admin\Settings_Page::field( array( "field" => "password", "type" => "password" ) );
			SmtpCoreMailer\Admin\Settings_Page::field( array( "field" => "return_path", "type" => "email" ) );
			$r["html"] = ob_get_clean();
			$result = $r;',
			array(
				'SMTPCORE_HOST'     => '127.0.0.1',
				'SMTPCORE_PORT'     => Mta::port( 'submission' ),
				'SMTPCORE_SECURITY' => 'starttls',
				'SMTPCORE_USER'     => 'alice@example.test',
				'SMTPCORE_PASS'     => Mta::password(),
				'SMTPCORE_CA_FILE'  => Mta::ca_file(),
				'SMTPCORE_FROM'     => 'alice@example.test',
				'WP_ADMIN'          => true,
			)
		);
		$this->assertSame( '127.0.0.1', $result['get']['host'] );
		$this->assertSame( Mta::port( 'submission' ), $result['get']['port'] );
		$this->assertSame( 'alice@example.test', $result['get']['username'] );
		$this->assertSame( 'SMTPCORE_HOST', $result['lock']['host'] );
		$this->assertSame( 'constant', $result['source'] );
		$this->assertNull( $result['lock']['return_path'] );
		$this->assertTrue( $result['sent'] );
		$this->assertSame( 'db-host.invalid', $result['stored_host'], 'a locked field is not overwritten' );
		$this->assertSame( 'db password', $result['stored_pass'], 'nor is the password when SMTPCORE_PASS is set' );
		$this->assertMatchesRegularExpression( '/<input type="text" id="smtpcore-host" name="smtpcore_mailer_settings\[host\]" value="127\.0\.0\.1"[^>]* disabled>/', $result['html'] );
		$this->assertStringContainsString( 'Set by SMTPCORE_HOST in wp-config.php.', $result['html'] );
		$this->assertMatchesRegularExpression( '/<input type="password" id="smtpcore-password" name="[^"]+" value=""[^>]* disabled>/', $result['html'] );
		$this->assertStringContainsString( 'Set by SMTPCORE_PASS in wp-config.php.', $result['html'] );
		$this->assertStringNotContainsString( Mta::password(), $result['html'] );
		$this->assertStringNotContainsString( 'db password', $result['html'] );
		$this->assertMatchesRegularExpression( '/id="smtpcore-return_path"[^>]*(?<!disabled)>/', $result['html'], 'a free field is not disabled' );
		Mta::wait_for( 'bob', $token );
	}

	public function test_a_preset_fills_host_port_and_security(): void {
		$this->configure(
			array(
				'preset'   => 'amazon-ses',
				'region'   => 'eu-west-1',
				'host'     => '',
				'port'     => 0,
				'security' => 'starttls',
			)
		);
		$server = Settings::server();
		$this->assertSame( 'email-smtp.eu-west-1.amazonaws.com', $server['host'] );
		$this->assertSame( 587, $server['port'] );
		$this->configure(
			array(
				'preset'   => 'yahoo',
				'host'     => '',
				'port'     => 0,
				'security' => 'tls',
			)
		);
		$this->assertSame( array( 'host' => 'smtp.mail.yahoo.com', 'port' => 465, 'security' => 'tls' ), Settings::server() );
	}

	public function test_without_the_extension_wordpress_keeps_its_mailer_and_admins_are_told(): void {
		$result = $this->run_in_wordpress(
			'require_once ABSPATH . "wp-admin/includes/admin.php";
			$admin = get_user_by( "login", "admin" );
			wp_set_current_user( $admin->ID );
			set_current_screen( "dashboard" );
			ob_start();
			do_action( "admin_notices" );
			$notices = ob_get_clean();
			$result = array(
				"loaded"   => extension_loaded( "smtpcore" ),
				"active"   => SmtpCoreMailer\Mailer::active(),
				"pre"      => apply_filters( "pre_wp_mail", null, array( "to" => "bob@example.test", "subject" => "s", "message" => "m", "headers" => "", "attachments" => array() ) ),
				"notices"  => $notices,
			);',
			array( 'WP_ADMIN' => true ),
			false
		);
		$this->assertFalse( $result['loaded'] );
		$this->assertFalse( $result['active'] );
		$this->assertNull( $result['pre'], 'pre_wp_mail passes: wp_mail() continues with PHPMailer' );
		$this->assertStringContainsString( 'smtpcore PHP extension is not loaded', $result['notices'] );
		$this->assertStringContainsString( 'built-in mailer', $result['notices'] );
	}

	public function test_not_configured_means_not_intercepting(): void {
		$this->configure( array( 'host' => '' ) );
		$this->assertFalse( \SmtpCoreMailer\Mailer::active() );
		$this->assertNull( \SmtpCoreMailer\Mailer::pre_wp_mail( null, array( 'to' => 'bob@example.test' ) ) );
	}
}
