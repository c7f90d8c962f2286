<?php
/**
 * Installs WordPress into the empty test database (no wp-cli in Debian),
 * creates the users the tests log in as, and activates the plugin.
 *
 * Usage: php bin/setup-wordpress.php   (env: SMTPCORE_WP_URL, SMTPCORE_WP_ADMIN_PASS, SMTPCORE_WP_USER_PASS)
 */

$_SERVER['HTTP_HOST']   = '127.0.0.1';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
define( 'WP_INSTALLING', true );

require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

// wp_install() mails the new admin: keep that away from /usr/sbin/sendmail.
add_filter( 'pre_wp_mail', '__return_true' );

$admin_pass = getenv( 'SMTPCORE_WP_ADMIN_PASS' );
$user_pass  = getenv( 'SMTPCORE_WP_USER_PASS' );

$result = wp_install( 'smtpcore test site', 'admin', 'admin@example.test', false, '', wp_slash( $admin_pass ) );
if ( is_wp_error( $result ) || empty( $result['user_id'] ) ) {
	fwrite( STDERR, "wp_install failed\n" );
	exit( 1 );
}

foreach ( array( 'editor', 'subscriber' ) as $role ) {
	$id = wp_insert_user(
		array(
			'user_login' => $role,
			'user_pass'  => $user_pass,
			'user_email' => $role . '@example.test',
			'role'       => $role,
		)
	);
	if ( is_wp_error( $id ) ) {
		fwrite( STDERR, "creating $role failed: " . $id->get_error_message() . "\n" );
		exit( 1 );
	}
}

update_option( 'show_avatars', 0 );
update_option( 'blog_public', 0 );
update_option( 'template', 'smtpcore-test' );
update_option( 'stylesheet', 'smtpcore-test' );
update_option( 'timezone_string', 'UTC' );
update_option( 'date_format', 'Y-m-d' );
update_option( 'time_format', 'H:i:s' );
// No "administration email verification" screen after the first login.
update_option( 'admin_email_lifespan', time() + YEAR_IN_SECONDS );

$activated = activate_plugin( 'smtpcore-mailer/smtpcore-mailer.php' );
if ( is_wp_error( $activated ) ) {
	fwrite( STDERR, 'activating the plugin failed: ' . $activated->get_error_message() . "\n" );
	exit( 1 );
}
echo "WordPress installed, plugin active\n";
