<?php
/**
 * The admin side: Settings → SMTP with three tabs (settings, test email, email
 * log), notices, and the admin-post.php actions.
 *
 * Every page and action needs manage_options; every action also a nonce
 * (check_admin_referer). The pages are registered with manage_options, so
 * WordPress itself answers 403 to anyone else.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer\Admin;

use SmtpCoreMailer\Crypto;
use SmtpCoreMailer\Email_Log;
use SmtpCoreMailer\Settings;
use SmtpCoreMailer\Transport;
use const SmtpCoreMailer\PLUGIN_FILE;
use const SmtpCoreMailer\VERSION;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

require_once __DIR__ . '/class-settings-page.php';
require_once __DIR__ . '/class-test-page.php';
require_once __DIR__ . '/class-log-page.php';

/**
 * Menu, routing between tabs, notices, assets.
 */
final class Admin {

	const SLUG = 'smtpcore-mailer';

	const CAPABILITY = 'manage_options';

	/**
	 * The page's hook suffix (settings_page_smtpcore-mailer).
	 *
	 * @var string
	 */
	private static $hook = '';

	/**
	 * Registers the admin hooks.
	 */
	public static function register(): void {
		add_action( 'admin_menu', array( self::class, 'menu' ) );
		add_action( 'admin_init', array( Email_Log::class, 'maybe_install' ) );
		add_action( 'admin_init', array( Settings_Page::class, 'register_fields' ) );
		add_action( 'admin_notices', array( self::class, 'notices' ) );
		add_action( 'admin_enqueue_scripts', array( self::class, 'assets' ) );
		add_action( 'admin_post_smtpcore_mailer_send_test', array( Test_Page::class, 'handle_send' ) );
		add_action( 'admin_post_smtpcore_mailer_resend', array( Log_Page::class, 'handle_resend' ) );
		add_action( 'admin_post_smtpcore_mailer_delete_logs', array( Log_Page::class, 'handle_delete' ) );
		add_filter( 'set_screen_option_' . Log_Page::PER_PAGE_OPTION, array( Log_Page::class, 'save_per_page' ), 10, 3 );
		add_filter( 'plugin_action_links_' . plugin_basename( PLUGIN_FILE ), array( self::class, 'action_links' ) );
	}

	/**
	 * Settings → SMTP.
	 */
	public static function menu(): void {
		self::$hook = (string) add_options_page(
			__( 'SMTP (smtpcore)', 'smtpcore-mailer' ),
			__( 'SMTP', 'smtpcore-mailer' ),
			self::CAPABILITY,
			self::SLUG,
			array( self::class, 'render' )
		);
		add_action( 'load-' . self::$hook, array( self::class, 'load' ) );
	}

	/**
	 * Before output: screen options for the log.
	 */
	public static function load(): void {
		if ( 'log' === self::current_tab() ) {
			Log_Page::load();
		}
	}

	/**
	 * The URL of a tab (with extra query arguments).
	 *
	 * @param string               $tab  settings, test or log.
	 * @param array<string, mixed> $args More query arguments.
	 */
	public static function url( string $tab = 'settings', array $args = array() ): string {
		return add_query_arg(
			array_merge(
				array(
					'page' => self::SLUG,
					'tab'  => $tab,
				),
				$args
			),
			admin_url( 'options-general.php' )
		);
	}

	/**
	 * The tab being shown.
	 */
	public static function current_tab(): string {
		$tab = isset( $_GET['tab'] ) ? sanitize_key( wp_unslash( $_GET['tab'] ) ) : 'settings'; // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		return in_array( $tab, array( 'settings', 'test', 'log' ), true ) ? $tab : 'settings';
	}

	/**
	 * Dies with 403 unless the user may manage options (for admin-post actions).
	 */
	public static function require_capability(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die(
				esc_html__( 'Sorry, you are not allowed to access this page.', 'smtpcore-mailer' ),
				esc_html__( 'Not allowed', 'smtpcore-mailer' ),
				array( 'response' => 403 )
			);
		}
	}

	/**
	 * The page: title, tabs, then the tab's content.
	 */
	public static function render(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return; // WordPress has already refused; this is a second lock.
		}
		$tab  = self::current_tab();
		$tabs = array(
			'settings' => __( 'Settings', 'smtpcore-mailer' ),
			'test'     => __( 'Send a test email', 'smtpcore-mailer' ),
			'log'      => __( 'Email log', 'smtpcore-mailer' ),
		);
		echo '<div class="wrap smtpcore-mailer">';
		echo '<h1>' . esc_html__( 'SMTP (smtpcore)', 'smtpcore-mailer' ) . '</h1>';
		echo '<hr class="wp-header-end">';
		echo '<nav class="nav-tab-wrapper" aria-label="' . esc_attr__( 'SMTP pages', 'smtpcore-mailer' ) . '">';
		foreach ( $tabs as $id => $label ) {
			printf(
				'<a href="%1$s" class="nav-tab%2$s"%3$s>%4$s</a>',
				esc_url( self::url( $id ) ),
				$id === $tab ? ' nav-tab-active' : '',
				$id === $tab ? ' aria-current="page"' : '',
				esc_html( $label )
			);
		}
		echo '</nav>';
		switch ( $tab ) {
			case 'test':
				Test_Page::render();
				break;
			case 'log':
				Log_Page::render();
				break;
			default:
				Settings_Page::render();
		}
		echo '</div>';
	}

	/**
	 * Notices for administrators: no extension, not configured, unreadable password.
	 */
	public static function notices(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		$screen = get_current_screen();
		$id     = $screen ? $screen->id : '';
		$ours   = self::$hook === $id;
		if ( ! in_array( $id, array( 'dashboard', 'plugins', self::$hook ), true ) ) {
			return;
		}
		if ( ! Transport::available() ) {
			printf(
				'<div class="notice notice-warning"><p><strong>%1$s</strong> %2$s</p></div>',
				esc_html__( 'smtpcore Mailer:', 'smtpcore-mailer' ),
				esc_html__( 'the smtpcore PHP extension is not loaded, so WordPress keeps sending email with its built-in mailer. Build the extension and enable it with extension=smtpcore.so (see the plugin\'s README).', 'smtpcore-mailer' )
			);
			return;
		}
		if ( ! Settings::is_configured() ) {
			printf(
				'<div class="notice notice-info"><p><strong>%1$s</strong> %2$s %3$s</p></div>',
				esc_html__( 'smtpcore Mailer:', 'smtpcore-mailer' ),
				esc_html__( 'no SMTP server is set yet, so WordPress keeps sending email with its built-in mailer.', 'smtpcore-mailer' ),
				$ours ? '' : '<a href="' . esc_url( self::url() ) . '">' . esc_html__( 'Set it up', 'smtpcore-mailer' ) . '</a>'
			);
		}
		if ( 'undecryptable' === Settings::password_source() ) {
			printf(
				'<div class="notice notice-error"><p><strong>%1$s</strong> %2$s</p></div>',
				esc_html__( 'smtpcore Mailer:', 'smtpcore-mailer' ),
				esc_html__( 'the stored SMTP password cannot be decrypted (the encryption key in wp-config.php changed). Enter the password again.', 'smtpcore-mailer' )
			);
		}
		if ( $ours && null === Crypto::key_source() && null === Settings::locking_constant( 'password' ) ) {
			printf(
				'<div class="notice notice-warning"><p><strong>%1$s</strong> %2$s</p></div>',
				esc_html__( 'smtpcore Mailer:', 'smtpcore-mailer' ),
				esc_html__( 'there is no key to encrypt the SMTP password with. Define SMTPCORE_KEY (a long random string) in wp-config.php, or put the password in SMTPCORE_PASS there.', 'smtpcore-mailer' )
			);
		}
	}

	/**
	 * Styles and the preset script, on our page only.
	 *
	 * @param string $hook The current page's hook suffix.
	 */
	public static function assets( $hook ): void {
		if ( $hook !== self::$hook ) {
			return;
		}
		$base = plugin_dir_url( PLUGIN_FILE ) . 'admin/';
		wp_enqueue_style( 'smtpcore-mailer-admin', $base . 'css/admin.css', array(), VERSION );
		if ( 'settings' === self::current_tab() ) {
			wp_enqueue_script( 'smtpcore-mailer-admin', $base . 'js/admin.js', array(), VERSION, true );
		}
	}

	/**
	 * "Settings" link on the Plugins screen.
	 *
	 * @param string[] $links Existing links.
	 * @return string[]
	 */
	public static function action_links( $links ): array {
		array_unshift( $links, '<a href="' . esc_url( self::url() ) . '">' . esc_html__( 'Settings', 'smtpcore-mailer' ) . '</a>' );
		return $links;
	}
}
