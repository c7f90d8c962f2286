<?php
/**
 * The "Email log" tab: the list, one entry, resend and delete.
 *
 * Entries can contain password-reset links: this tab, like the others, is for
 * manage_options only, and the message body is shown as text, never as HTML.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer\Admin;

use SmtpCoreMailer\Email_Log;
use SmtpCoreMailer\Mailer;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * List, view, actions.
 */
final class Log_Page {

	const PER_PAGE_OPTION = 'smtpcore_mailer_log_per_page';

	const RESEND_ACTION = 'smtpcore_mailer_resend';

	const DELETE_ACTION = 'smtpcore_mailer_delete_logs';

	/**
	 * Before output: the "entries per page" screen option.
	 */
	public static function load(): void {
		add_screen_option(
			'per_page',
			array(
				'label'   => __( 'Entries per page', 'smtpcore-mailer' ),
				'default' => 20,
				'option'  => self::PER_PAGE_OPTION,
			)
		);
	}

	/**
	 * Saves the screen option.
	 *
	 * @param mixed  $keep   The value to keep (false: do not save).
	 * @param string $option The option name.
	 * @param mixed  $value  The submitted value.
	 * @return mixed
	 */
	public static function save_per_page( $keep, $option, $value ) {
		return self::PER_PAGE_OPTION === $option ? max( 1, min( 500, (int) $value ) ) : $keep;
	}

	/**
	 * The tab: one entry when ?entry= is given, else the list.
	 */
	public static function render(): void {
		$entry_id = isset( $_GET['entry'] ) ? absint( $_GET['entry'] ) : 0; // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		self::action_notice();
		if ( $entry_id > 0 ) {
			self::render_entry( $entry_id );
			return;
		}
		require_once __DIR__ . '/class-log-list-table.php';
		$table = new Log_List_Table();
		$table->prepare_items();
		$table->views();
		echo '<form method="get" action="' . esc_url( admin_url( 'options-general.php' ) ) . '" class="smtpcore-log-form">';
		echo '<input type="hidden" name="page" value="' . esc_attr( Admin::SLUG ) . '">';
		echo '<input type="hidden" name="tab" value="log">';
		if ( ! empty( $_GET['status'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification.Recommended
			echo '<input type="hidden" name="status" value="' . esc_attr( sanitize_key( wp_unslash( $_GET['status'] ) ) ) . '">'; // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		}
		$table->search_box( __( 'Search emails', 'smtpcore-mailer' ), 'smtpcore-log' );
		$table->display();
		echo '</form>';
	}

	/**
	 * Notices after resend or delete.
	 */
	private static function action_notice(): void {
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- display only.
		if ( isset( $_GET['deleted'] ) ) {
			$n = absint( $_GET['deleted'] );
			/* translators: %d: number of entries */
			echo '<div class="notice notice-success inline"><p>' . esc_html( sprintf( _n( '%d entry deleted.', '%d entries deleted.', $n, 'smtpcore-mailer' ), $n ) ) . '</p></div>';
		}
		if ( isset( $_GET['resent'] ) ) {
			if ( '1' === $_GET['resent'] ) {
				echo '<div class="notice notice-success inline"><p>' . esc_html__( 'The email was sent again.', 'smtpcore-mailer' ) . '</p></div>';
			} else {
				echo '<div class="notice notice-error inline"><p>' . esc_html__( 'The email could not be sent again; see this entry for why.', 'smtpcore-mailer' ) . '</p></div>';
			}
		}
		// phpcs:enable
	}

	/**
	 * One entry in full.
	 */
	private static function render_entry( int $id ): void {
		$entry = Email_Log::get( $id );
		echo '<p><a href="' . esc_url( Admin::url( 'log' ) ) . '">&larr; ' . esc_html__( 'Back to the email log', 'smtpcore-mailer' ) . '</a></p>';
		if ( null === $entry ) {
			echo '<div class="notice notice-error inline"><p>' . esc_html__( 'That log entry does not exist (it may have been deleted).', 'smtpcore-mailer' ) . '</p></div>';
			return;
		}
		$d    = $entry['details'];
		$time = strtotime( $entry['created_at'] . ' UTC' );
		/* translators: %d: entry number */
		echo '<h2>' . esc_html( sprintf( __( 'Email #%d', 'smtpcore-mailer' ), $entry['id'] ) ) . ' ' . self::status_badge( (string) $entry['status'] ) . '</h2>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
		echo '<table class="widefat striped smtpcore-entry"><tbody>';
		self::row( __( 'Date', 'smtpcore-mailer' ), wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ) . ' T', $time ) );
		self::row( __( 'From', 'smtpcore-mailer' ), (string) $entry['from_addr'] );
		self::row( __( 'To', 'smtpcore-mailer' ), (string) $entry['to_addrs'] );
		self::row( __( 'Cc', 'smtpcore-mailer' ), implode( ', ', (array) ( $d['cc'] ?? array() ) ) );
		self::row( __( 'Bcc', 'smtpcore-mailer' ), implode( ', ', (array) ( $d['bcc'] ?? array() ) ) );
		self::row( __( 'Reply-To', 'smtpcore-mailer' ), implode( ', ', (array) ( $d['reply_to'] ?? array() ) ) );
		self::row( __( 'Envelope sender', 'smtpcore-mailer' ), (string) ( $d['envelope'] ?? '' ) );
		self::row( __( 'Subject', 'smtpcore-mailer' ), (string) $entry['subject'] );
		self::row( __( 'Content type', 'smtpcore-mailer' ), (string) ( $d['content_type'] ?? '' ) );
		$transport = (array) ( $d['transport'] ?? array() );
		if ( $transport ) {
			$server = sprintf( '%s:%d (%s)', (string) ( $transport['host'] ?? '' ), (int) ( $transport['port'] ?? 0 ), (string) ( $transport['security'] ?? '' ) );
			if ( ! empty( $transport['username'] ) ) {
				/* translators: %s: user name */
				$server .= ', ' . sprintf( __( 'user %s', 'smtpcore-mailer' ), (string) $transport['username'] );
			}
			if ( ! empty( $d['extension'] ) ) {
				$server .= ', smtpcore ' . (string) $d['extension'];
			}
			self::row( __( 'Server', 'smtpcore-mailer' ), $server );
		}
		if ( isset( $d['elapsed_ms'] ) ) {
			/* translators: %d: milliseconds */
			self::row( __( 'Time taken', 'smtpcore-mailer' ), sprintf( __( '%d ms', 'smtpcore-mailer' ), (int) $d['elapsed_ms'] ) );
		}
		self::row( __( 'Server reply', 'smtpcore-mailer' ), (string) $entry['server_reply'] );
		if ( 'sent' !== $entry['status'] ) {
			self::row( __( 'Error', 'smtpcore-mailer' ), (string) $entry['error'] );
			self::row( __( 'Category', 'smtpcore-mailer' ), (string) $entry['category'] );
			self::row( __( 'Reply code', 'smtpcore-mailer' ), $entry['smtp_code'] ? (string) $entry['smtp_code'] : '' );
			self::row( __( 'Enhanced code', 'smtpcore-mailer' ), (string) $entry['enhanced_code'] );
			self::row( __( 'What to check', 'smtpcore-mailer' ), (string) ( $d['hint'] ?? '' ) );
		}
		self::row( __( 'Accepted', 'smtpcore-mailer' ), implode( ', ', (array) ( $d['accepted'] ?? array() ) ) );
		$refused = array();
		foreach ( (array) ( $d['refused'] ?? array() ) as $address => $why ) {
			$refused[] = $address . ': ' . trim( ( $why['code'] ?? '' ) . ' ' . ( $why['enhanced'] ?? '' ) . ' ' . ( $why['message'] ?? '' ) );
		}
		self::row( __( 'Refused', 'smtpcore-mailer' ), implode( "\n", $refused ) );
		$attachments = array();
		foreach ( (array) ( $d['attachments'] ?? array() ) as $a ) {
			$attachments[] = trim( (string) ( $a['name'] ?? '' ) . ' (' . (string) ( $a['type'] ?? '' ) . ( 'inline' === ( $a['disposition'] ?? '' ) ? ', inline cid:' . (string) ( $a['cid'] ?? '' ) : '' ) . ')' );
		}
		self::row( __( 'Attachments', 'smtpcore-mailer' ), implode( "\n", $attachments ) );
		self::row( __( 'Headers given', 'smtpcore-mailer' ), implode( "\n", array_map( 'strval', (array) $entry['headers'] ) ) );
		self::row( __( 'Notes', 'smtpcore-mailer' ), implode( "\n", array_map( 'strval', (array) ( $d['notes'] ?? array() ) ) ) );
		echo '</tbody></table>';

		echo '<h3>' . esc_html__( 'Message', 'smtpcore-mailer' ) . '</h3>';
		echo '<pre class="smtpcore-body">' . esc_html( (string) $entry['message'] ) . '</pre>';
		if ( ! empty( $d['transcript'] ) ) {
			echo '<h3>' . esc_html__( 'Transcript (passwords redacted)', 'smtpcore-mailer' ) . '</h3>';
			echo '<pre class="smtpcore-transcript">' . esc_html( implode( "\n", array_map( 'strval', (array) $d['transcript'] ) ) ) . '</pre>';
		}

		echo '<div class="smtpcore-entry-actions">';
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::RESEND_ACTION ) . '">';
		echo '<input type="hidden" name="entry" value="' . esc_attr( (string) $entry['id'] ) . '">';
		wp_nonce_field( self::RESEND_ACTION . '_' . $entry['id'] );
		submit_button( __( 'Resend', 'smtpcore-mailer' ), 'primary', 'resend', false, array( 'id' => 'smtpcore-resend' ) );
		echo '<span class="description"> ' . esc_html__( 'Sends the same message again through wp_mail(); attachments that no longer exist are left out.', 'smtpcore-mailer' ) . '</span>';
		echo '</form>';
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::DELETE_ACTION ) . '">';
		echo '<input type="hidden" name="entry[]" value="' . esc_attr( (string) $entry['id'] ) . '">';
		wp_nonce_field( 'bulk-smtpcore-log-entries' );
		submit_button( __( 'Delete entry', 'smtpcore-mailer' ), 'delete', 'delete', false, array( 'id' => 'smtpcore-delete-entry' ) );
		echo '</form>';
		echo '</div>';
	}

	/**
	 * admin-post.php?action=smtpcore_mailer_resend
	 */
	public static function handle_resend(): void {
		Admin::require_capability();
		$id = isset( $_POST['entry'] ) ? absint( $_POST['entry'] ) : 0;
		check_admin_referer( self::RESEND_ACTION . '_' . $id );
		$entry = Email_Log::get( $id );
		if ( null === $entry ) {
			wp_die( esc_html__( 'That log entry does not exist.', 'smtpcore-mailer' ), '', array( 'response' => 404 ) );
		}
		$to = $entry['details']['args_to'] ?? array_map( 'trim', explode( ',', (string) $entry['to_addrs'] ) );
		$ok = wp_mail( $to, (string) $entry['subject'], (string) $entry['message'], (array) $entry['headers'], (array) $entry['attachments'] );
		$attempt = Mailer::last_attempt();
		$new_id  = is_array( $attempt ) && ! empty( $attempt['log_id'] ) ? (int) $attempt['log_id'] : 0;
		$args    = array( 'resent' => $ok ? '1' : '0' );
		if ( $new_id > 0 ) {
			$args['entry'] = $new_id;
		}
		wp_safe_redirect( Admin::url( 'log', $args ) );
		exit;
	}

	/**
	 * admin-post.php?action=smtpcore_mailer_delete_logs (the list's button and an entry's Delete).
	 */
	public static function handle_delete(): void {
		Admin::require_capability();
		check_admin_referer( 'bulk-smtpcore-log-entries' );
		$ids     = isset( $_POST['entry'] ) ? array_map( 'absint', (array) wp_unslash( $_POST['entry'] ) ) : array();
		$deleted = Email_Log::delete( $ids );
		wp_safe_redirect( Admin::url( 'log', array( 'deleted' => $deleted ) ) );
		exit;
	}

	/**
	 * A status label (escaped HTML).
	 */
	public static function status_badge( string $status ): string {
		$labels = array(
			'sent'    => __( 'Sent', 'smtpcore-mailer' ),
			'failed'  => __( 'Failed', 'smtpcore-mailer' ),
			'partial' => __( 'Partly sent', 'smtpcore-mailer' ),
		);
		return sprintf( '<span class="smtpcore-status smtpcore-status-%1$s">%2$s</span>', esc_attr( $status ), esc_html( $labels[ $status ] ?? $status ) );
	}

	private static function row( string $label, string $value ): void {
		if ( '' === trim( $value ) ) {
			return;
		}
		echo '<tr><th scope="row">' . esc_html( $label ) . '</th><td>' . nl2br( esc_html( $value ) ) . '</td></tr>';
	}
}
