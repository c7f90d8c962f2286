<?php
/**
 * Uninstall: removes everything the plugin stored (settings, the log table,
 * test reports, the per-page screen option), on every site of a network.
 * Constants in wp-config.php are the site owner's to remove.
 *
 * @package SmtpCoreMailer
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

/**
 * Removes the plugin's data from the current site.
 */
function smtpcore_mailer_uninstall_site() {
	global $wpdb;
	delete_option( 'smtpcore_mailer_settings' );
	delete_option( 'smtpcore_mailer_db_version' );
	$wpdb->query( "DROP TABLE IF EXISTS {$wpdb->prefix}smtpcore_mailer_log" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
	$wpdb->query( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
		$wpdb->prepare(
			"DELETE FROM {$wpdb->options} WHERE option_name LIKE %s OR option_name LIKE %s",
			$wpdb->esc_like( '_transient_smtpcore_mailer_' ) . '%',
			$wpdb->esc_like( '_transient_timeout_smtpcore_mailer_' ) . '%'
		)
	);
}

if ( is_multisite() ) {
	foreach ( get_sites( array( 'fields' => 'ids', 'number' => 0 ) ) as $smtpcore_mailer_site ) {
		switch_to_blog( (int) $smtpcore_mailer_site );
		smtpcore_mailer_uninstall_site();
		restore_current_blog();
	}
} else {
	smtpcore_mailer_uninstall_site();
}
delete_metadata( 'user', 0, 'smtpcore_mailer_log_per_page', '', true );
