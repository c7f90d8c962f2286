<?php
/**
 * Plugin Name:       smtpcore Mailer
 * Description:       Sends every WordPress email over SMTP through the smtpcore PHP extension: verified TLS, clear error reports, an email log.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Author:            smtpcore
 * Text Domain:       smtpcore-mailer
 * Domain Path:       /languages
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const VERSION     = '0.1.0';
const PLUGIN_FILE = __FILE__;

require_once __DIR__ . '/includes/class-settings.php';
require_once __DIR__ . '/includes/class-settings-sanitizer.php';
require_once __DIR__ . '/includes/class-crypto.php';
require_once __DIR__ . '/includes/class-email-log.php';
require_once __DIR__ . '/includes/class-transport.php';
require_once __DIR__ . '/includes/class-message-builder.php';
require_once __DIR__ . '/includes/class-mailer.php';
require_once __DIR__ . '/includes/class-plugin.php';

register_activation_hook( __FILE__, array( Plugin::class, 'activate' ) );

Plugin::instance()->boot();
