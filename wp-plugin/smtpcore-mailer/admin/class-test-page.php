<?php
/**
 * The "Send a test email" tab: the form posts to admin-post.php, the message
 * goes through wp_mail() like any other, and the outcome (kept for a few
 * minutes for this user only) is shown after the redirect.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer\Admin;

use SmtpCoreMailer\Mailer;
use SmtpCoreMailer\Settings;
use SmtpCoreMailer\Transport;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Form, handler and report.
 */
final class Test_Page {

	const ACTION = 'smtpcore_mailer_send_test';

	/**
	 * The transient holding the last test's outcome for the current user.
	 */
	private static function transient(): string {
		return 'smtpcore_mailer_test_' . get_current_user_id();
	}

	/**
	 * The tab: the last outcome, then the form.
	 */
	public static function render(): void {
		$report = get_transient( self::transient() );
		if ( is_array( $report ) && isset( $_GET['sent'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification.Recommended
			delete_transient( self::transient() );
			self::report( $report );
		}
		$user = wp_get_current_user();
		$to   = is_array( $report ) && ! empty( $report['to'] ) ? (string) $report['to'] : (string) $user->user_email;

		if ( ! Mailer::active() ) {
			echo '<div class="notice notice-warning inline"><p>' . esc_html__( 'smtpcore is not sending email yet (see the Settings tab): a test email would go through WordPress\'s built-in mailer.', 'smtpcore-mailer' ) . '</p></div>';
		}
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" class="smtpcore-test-form">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '">';
		wp_nonce_field( self::ACTION );
		echo '<table class="form-table" role="presentation"><tbody>';
		echo '<tr><th scope="row"><label for="smtpcore-test-to">' . esc_html__( 'Send to', 'smtpcore-mailer' ) . '</label></th>';
		echo '<td><input type="email" id="smtpcore-test-to" name="to" value="' . esc_attr( $to ) . '" class="regular-text" required>';
		echo '<p class="description">' . esc_html__( 'Any address. The message says it is a test and which server sent it.', 'smtpcore-mailer' ) . '</p></td></tr>';
		echo '<tr><th scope="row">' . esc_html__( 'Format', 'smtpcore-mailer' ) . '</th>';
		echo '<td><label for="smtpcore-test-html"><input type="checkbox" id="smtpcore-test-html" name="html" value="1"> ' . esc_html__( 'HTML with a plain-text alternative', 'smtpcore-mailer' ) . '</label></td></tr>';
		echo '</tbody></table>';
		submit_button( __( 'Send test email', 'smtpcore-mailer' ), 'primary', 'submit', true, array( 'id' => 'smtpcore-send-test' ) );
		echo '</form>';
	}

	/**
	 * admin-post.php?action=smtpcore_mailer_send_test
	 */
	public static function handle_send(): void {
		Admin::require_capability();
		check_admin_referer( self::ACTION );

		$to   = isset( $_POST['to'] ) ? sanitize_email( wp_unslash( $_POST['to'] ) ) : '';
		$html = ! empty( $_POST['html'] );
		if ( '' === $to || ! is_email( $to ) ) {
			self::finish(
				array(
					'to'    => $to,
					'ok'    => false,
					'error' => __( 'Enter a valid email address to send the test to.', 'smtpcore-mailer' ),
				)
			);
		}

		$site    = wp_specialchars_decode( (string) get_bloginfo( 'name' ), ENT_QUOTES );
		$server  = Settings::server();
		/* translators: %s: site name */
		$subject = sprintf( __( 'Test email from %s', 'smtpcore-mailer' ), $site );
		$lines   = array(
			/* translators: %s: site name */
			sprintf( __( 'This is a test email from %s, sent by the smtpcore Mailer plugin.', 'smtpcore-mailer' ), $site ),
			/* translators: 1: host, 2: port, 3: encryption */
			sprintf( __( 'Server: %1$s, port %2$d (%3$s).', 'smtpcore-mailer' ), $server['host'], $server['port'], $server['security'] ),
			/* translators: %s: date and time */
			sprintf( __( 'Sent: %s (UTC).', 'smtpcore-mailer' ), gmdate( 'Y-m-d H:i:s' ) ),
		);
		$headers = array();
		$filter  = null;
		if ( $html ) {
			$body    = '<p>' . implode( '</p><p>', array_map( 'esc_html', $lines ) ) . '</p>';
			$headers = array( 'Content-Type: text/html; charset=UTF-8' );
			$alt     = implode( "\n\n", $lines );
			$filter  = static function ( $phpmailer ) use ( $alt ) {
				$phpmailer->AltBody = $alt;
			};
			add_action( 'phpmailer_init', $filter );
		} else {
			$body = implode( "\n\n", $lines );
		}

		$active = Mailer::active();
		$ok     = wp_mail( $to, $subject, $body, $headers );
		if ( $filter ) {
			remove_action( 'phpmailer_init', $filter );
		}
		$attempt = $active ? Mailer::last_attempt() : null;
		$report  = array(
			'to'      => $to,
			'ok'      => (bool) $ok,
			'smtp'    => null !== $attempt,
			'server'  => Settings::describe_transport(),
			'outcome' => null !== $attempt ? self::public_outcome( $attempt['outcome'] ) : null,
			'log_id'  => null !== $attempt ? (int) $attempt['log_id'] : 0,
		);
		if ( null === $attempt ) {
			$report['error'] = $active
				? __( 'Another plugin handled this email before smtpcore (pre_wp_mail).', 'smtpcore-mailer' )
				: __( 'smtpcore is not active, so WordPress\'s built-in mailer handled this email.', 'smtpcore-mailer' );
		}
		self::finish( $report );
	}

	/**
	 * Keeps the report for the next page view and redirects there.
	 *
	 * @param array<string, mixed> $report What to show.
	 */
	private static function finish( array $report ): void {
		set_transient( self::transient(), $report, 10 * MINUTE_IN_SECONDS );
		wp_safe_redirect( Admin::url( 'test', array( 'sent' => 1 ) ) );
		exit;
	}

	/**
	 * The parts of an outcome that may be shown (the transcript is already redacted).
	 *
	 * @param array<string, mixed> $outcome From Transport.
	 * @return array<string, mixed>
	 */
	private static function public_outcome( array $outcome ): array {
		return array_intersect_key(
			$outcome,
			array_flip( array( 'ok', 'sent', 'code', 'enhanced', 'reply', 'accepted', 'refused', 'error', 'category', 'server_message', 'hint', 'transcript', 'elapsed_ms' ) )
		);
	}

	/**
	 * Shows the outcome of the last test.
	 *
	 * @param array<string, mixed> $report From handle_send().
	 */
	private static function report( array $report ): void {
		$outcome = is_array( $report['outcome'] ?? null ) ? $report['outcome'] : null;
		if ( ! empty( $report['ok'] ) && null !== $outcome ) {
			$reply    = Mailer::reply_line( $outcome );
			$queue_id = Mailer::queue_id( $reply );
			echo '<div class="notice notice-success inline smtpcore-result smtpcore-result-ok"><p><strong>';
			/* translators: %s: email address */
			echo esc_html( sprintf( __( 'The test email to %s was accepted by the server.', 'smtpcore-mailer' ), (string) $report['to'] ) );
			echo '</strong></p>';
			echo '<table class="smtpcore-facts"><tbody>';
			self::fact( __( 'Server reply', 'smtpcore-mailer' ), $reply, 'smtpcore-reply' );
			if ( '' !== $queue_id ) {
				self::fact( __( 'Queue ID', 'smtpcore-mailer' ), $queue_id, 'smtpcore-queue-id' );
			}
			self::fact( __( 'Server', 'smtpcore-mailer' ), self::server_line( (array) $report['server'] ) );
			if ( isset( $outcome['elapsed_ms'] ) ) {
				/* translators: %d: milliseconds */
				self::fact( __( 'Time', 'smtpcore-mailer' ), sprintf( __( '%d ms', 'smtpcore-mailer' ), (int) $outcome['elapsed_ms'] ) );
			}
			echo '</tbody></table></div>';
			return;
		}
		if ( ! empty( $report['ok'] ) ) {
			echo '<div class="notice notice-warning inline smtpcore-result"><p>' . esc_html( (string) ( $report['error'] ?? '' ) ) . '</p></div>';
			return;
		}

		echo '<div class="notice notice-error inline smtpcore-result smtpcore-result-failed"><p><strong>';
		/* translators: %s: email address */
		echo esc_html( sprintf( __( 'The test email to %s could not be sent.', 'smtpcore-mailer' ), (string) $report['to'] ) );
		echo '</strong></p>';
		if ( null === $outcome ) {
			echo '<p>' . esc_html( (string) ( $report['error'] ?? '' ) ) . '</p></div>';
			return;
		}
		echo '<table class="smtpcore-facts"><tbody>';
		self::fact( __( 'Error', 'smtpcore-mailer' ), (string) $outcome['error'], 'smtpcore-error' );
		self::fact( __( 'Category', 'smtpcore-mailer' ), (string) $outcome['category'], 'smtpcore-category' );
		self::fact( __( 'Reply code', 'smtpcore-mailer' ), $outcome['code'] ? (string) $outcome['code'] : '—', 'smtpcore-code' );
		self::fact( __( 'Enhanced code', 'smtpcore-mailer' ), (string) ( $outcome['enhanced'] ?? '' ) ?: '—', 'smtpcore-enhanced' );
		if ( ! empty( $outcome['server_message'] ) ) {
			self::fact( __( 'Server said', 'smtpcore-mailer' ), (string) $outcome['server_message'] );
		}
		foreach ( (array) $outcome['refused'] as $address => $why ) {
			/* translators: %s: email address */
			self::fact( sprintf( __( 'Refused %s', 'smtpcore-mailer' ), (string) $address ), trim( ( $why['code'] ?? '' ) . ' ' . ( $why['enhanced'] ?? '' ) . ' ' . ( $why['message'] ?? '' ) ) );
		}
		self::fact( __( 'Server', 'smtpcore-mailer' ), self::server_line( (array) $report['server'] ) );
		echo '</tbody></table>';
		if ( ! empty( $outcome['hint'] ) ) {
			echo '<p class="smtpcore-hint"><strong>' . esc_html__( 'What to check:', 'smtpcore-mailer' ) . '</strong> ' . esc_html( (string) $outcome['hint'] ) . '</p>';
		}
		if ( ! empty( $outcome['transcript'] ) ) {
			echo '<details class="smtpcore-transcript" open><summary>' . esc_html__( 'Transcript (passwords redacted)', 'smtpcore-mailer' ) . '</summary>';
			echo '<pre>' . esc_html( implode( "\n", array_map( 'strval', (array) $outcome['transcript'] ) ) ) . '</pre></details>';
		}
		echo '</div>';
	}

	/**
	 * @param array<string, mixed> $server From Settings::describe_transport().
	 */
	private static function server_line( array $server ): string {
		/* translators: 1: host, 2: port, 3: encryption, 4: user name */
		$line = sprintf( __( '%1$s, port %2$d, %3$s', 'smtpcore-mailer' ), (string) ( $server['host'] ?? '' ), (int) ( $server['port'] ?? 0 ), (string) ( $server['security'] ?? '' ) );
		if ( ! empty( $server['username'] ) ) {
			/* translators: %s: user name */
			$line .= ', ' . sprintf( __( 'user %s', 'smtpcore-mailer' ), (string) $server['username'] );
		}
		return $line;
	}

	private static function fact( string $label, string $value, string $class = '' ): void {
		echo '<tr><th scope="row">' . esc_html( $label ) . '</th><td' . ( '' !== $class ? ' class="' . esc_attr( $class ) . '"' : '' ) . '>' . esc_html( $value ) . '</td></tr>';
	}
}
