<?php
/**
 * Wiring: hooks, activation, the admin side.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The plugin's entry point.
 */
final class Plugin {

	/**
	 * @var Plugin|null
	 */
	private static $instance = null;

	/**
	 * The one instance.
	 */
	public static function instance(): Plugin {
		if ( null === self::$instance ) {
			self::$instance = new self();
		}
		return self::$instance;
	}

	/**
	 * Registers the hooks. Sending is hooked on every request; the admin pages only in wp-admin.
	 */
	public function boot(): void {
		// Late, so that a plugin that blocks mail with pre_wp_mail still wins (its value is passed through).
		add_filter( 'pre_wp_mail', array( Mailer::class, 'pre_wp_mail' ), 1000, 2 );
		add_action( 'shutdown', array( Transport::class, 'close' ) );
		add_action( 'init', array( $this, 'load_textdomain' ) );
		add_action( 'init', array( Settings_Sanitizer::class, 'register' ) );
		if ( is_admin() ) {
			require_once dirname( PLUGIN_FILE ) . '/admin/class-admin.php';
			Admin\Admin::register();
		}
	}

	/**
	 * Loads translations from languages/.
	 */
	public function load_textdomain(): void {
		load_plugin_textdomain( 'smtpcore-mailer', false, dirname( plugin_basename( PLUGIN_FILE ) ) . '/languages' );
	}

	/**
	 * Activation: the log table and the settings option (added with defaults so
	 * the Settings API's first save runs the sanitize callback once, not twice).
	 *
	 * @param bool $network_wide Activated for the whole network (multisite).
	 */
	public static function activate( $network_wide = false ): void {
		if ( is_multisite() && $network_wide ) {
			foreach ( get_sites( array( 'fields' => 'ids', 'number' => 0 ) ) as $site_id ) {
				switch_to_blog( (int) $site_id );
				self::activate_site();
				restore_current_blog();
			}
			return;
		}
		self::activate_site();
	}

	private static function activate_site(): void {
		Email_Log::install();
		add_option( Settings::OPTION, Settings::defaults() );
	}
}
