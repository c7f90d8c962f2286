<?php
/**
 * Loads the real WordPress that run.sh installed (no WP_UnitTestCase offline:
 * tests reset their own state).
 *
 * PHPUnit includes this file inside a method, so the variables WordPress's
 * config and loader set at file level are made global first.
 */

// phpcs:disable
global $table_prefix, $wpdb, $wp_version, $wp_db_version, $tinymce_version, $required_php_version,
	$required_mysql_version, $wp_local_package, $phpmailer, $wp_filter, $wp_actions, $wp_current_filter,
	$wp_rewrite, $wp, $wp_query, $wp_the_query, $wp_roles, $wp_locale, $wp_embed, $wp_widget_factory,
	$wp_theme_directories, $wp_plugin_paths, $shortcode_tags, $current_site, $current_blog, $blog_id,
	$wp_textdomain_registry, $l10n, $wp_object_cache, $_wp_using_ext_object_cache, $pagenow, $PHP_SELF,
	$debian_server, $debian_file, $debian_main_server, $debian_main_file, $wp_scripts, $wp_styles;

$_SERVER['HTTP_HOST']   = '127.0.0.1';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PORT'] = '80';

if ( ! getenv( 'SMTPCORE_WP_MTA' ) ) {
	fwrite( STDERR, "Run these tests through tests/wordpress/run.sh (it starts WordPress and the MTA).\n" );
	exit( 1 );
}
if ( ! extension_loaded( 'smtpcore' ) ) {
	fwrite( STDERR, "The smtpcore extension is not loaded (php -d extension=.../smtpcore.so).\n" );
	exit( 1 );
}

require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

require __DIR__ . '/lib/Mime.php';
require __DIR__ . '/lib/Mta.php';
require __DIR__ . '/lib/TestCase.php';
