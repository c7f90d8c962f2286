<?php
/**
 * Runs a PHP file inside the test WordPress, in a process of its own (see
 * TestCase::run_in_wordpress()). The site config defines the constants from
 * SMTPCORE_WP_CONSTANTS before WordPress loads; the script sets $result, which
 * is printed as JSON after a marker line.
 *
 * Usage: SMTPCORE_WP_CONSTANTS='{"SMTPCORE_HOST":"..."}' php [-d extension=...] bin/wp-run.php script.php
 */

$_SERVER['HTTP_HOST']   = '127.0.0.1';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';

require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$result = null;
require $argv[1];
echo "\n@@RESULT@@" . json_encode( $result );
