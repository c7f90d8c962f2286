<?php
/**
 * Uninstall removes the options, the log table and the plugin's transients and
 * user settings; activation brings the table back. Runs last.
 */

namespace SmtpCoreMailerTests;

final class UninstallTest extends TestCase {

	public function test_uninstall_removes_options_and_table_then_activation_restores_the_table(): void {
		$result = $this->run_in_wordpress(
			'global $wpdb;
			$file = "smtpcore-mailer/smtpcore-mailer.php";
			SmtpCoreMailer\Email_Log::add( array( "status" => "sent", "subject" => "before uninstall" ) );
			set_transient( "smtpcore_mailer_test_1", array( "ok" => true ), 600 );
			update_user_meta( 1, "smtpcore_mailer_log_per_page", 50 );
			$table = $wpdb->prefix . "smtpcore_mailer_log";
			$r = array(
				"before_table"  => $table === $wpdb->get_var( $wpdb->prepare( "SHOW TABLES LIKE %s", $table ) ),
				"before_option" => false !== get_option( "smtpcore_mailer_settings" ),
			);
			deactivate_plugins( $file );
			uninstall_plugin( $file );
			wp_cache_flush();
			$r["table"]      = $wpdb->get_var( $wpdb->prepare( "SHOW TABLES LIKE %s", $table ) );
			$r["options"]    = $wpdb->get_col( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE \"%smtpcore%\"" );
			$r["user_meta"]  = $wpdb->get_col( "SELECT meta_key FROM {$wpdb->usermeta} WHERE meta_key LIKE \"%smtpcore%\"" );
			$r["activated"]  = null === activate_plugin( $file );
			$r["table_back"] = $table === $wpdb->get_var( $wpdb->prepare( "SHOW TABLES LIKE %s", $table ) );
			$result = $r;'
		);
		$this->assertTrue( $result['before_table'] );
		$this->assertTrue( $result['before_option'] );
		$this->assertNull( $result['table'], 'the log table is dropped' );
		$this->assertSame( array(), $result['options'], 'no option, transient or version left' );
		$this->assertSame( array(), $result['user_meta'] );
		$this->assertTrue( $result['activated'] );
		$this->assertTrue( $result['table_back'] );
	}
}
