<?php
/**
 * The email log as a WP_List_Table: search, status views, sorting, paging.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer\Admin;

use SmtpCoreMailer\Email_Log;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

if ( ! class_exists( '\\WP_List_Table' ) ) {
	require_once ABSPATH . 'wp-admin/includes/class-wp-list-table.php';
}

/**
 * Rows of the log table.
 */
final class Log_List_Table extends \WP_List_Table {

	/**
	 * Set up with the screen of the SMTP page.
	 */
	public function __construct() {
		parent::__construct(
			array(
				'singular' => 'smtpcore-log-entry',
				'plural'   => 'smtpcore-log-entries',
				'ajax'     => false,
			)
		);
	}

	/**
	 * @return array<string, string>
	 */
	public function get_columns() {
		return array(
			'cb'         => '<input type="checkbox" />',
			'created_at' => __( 'Date', 'smtpcore-mailer' ),
			'to_addrs'   => __( 'To', 'smtpcore-mailer' ),
			'subject'    => __( 'Subject', 'smtpcore-mailer' ),
			'status'     => __( 'Status', 'smtpcore-mailer' ),
			'details'    => __( 'Server reply or error', 'smtpcore-mailer' ),
		);
	}

	/**
	 * @return array<string, array{0: string, 1: bool}>
	 */
	protected function get_sortable_columns() {
		return array(
			'created_at' => array( 'created_at', true ),
			'to_addrs'   => array( 'to_addrs', false ),
			'subject'    => array( 'subject', false ),
			'status'     => array( 'status', false ),
		);
	}

	protected function get_primary_column_name() {
		return 'subject';
	}

	/**
	 * Loads the page of entries the request asks for.
	 */
	public function prepare_items() {
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- read-only listing.
		$per_page = $this->get_items_per_page( Log_Page::PER_PAGE_OPTION, 20 );
		$result   = Email_Log::query(
			array(
				'search'   => isset( $_REQUEST['s'] ) ? sanitize_text_field( wp_unslash( $_REQUEST['s'] ) ) : '',
				'status'   => isset( $_REQUEST['status'] ) ? sanitize_key( wp_unslash( $_REQUEST['status'] ) ) : '',
				'orderby'  => isset( $_REQUEST['orderby'] ) ? sanitize_key( wp_unslash( $_REQUEST['orderby'] ) ) : 'created_at',
				'order'    => isset( $_REQUEST['order'] ) ? sanitize_key( wp_unslash( $_REQUEST['order'] ) ) : 'desc',
				'per_page' => $per_page,
				'page'     => $this->get_pagenum(),
			)
		);
		// phpcs:enable
		$this->items           = $result['items'];
		$this->_column_headers = array( $this->get_columns(), array(), $this->get_sortable_columns(), $this->get_primary_column_name() );
		$this->set_pagination_args(
			array(
				'total_items' => $result['total'],
				'per_page'    => $per_page,
				'total_pages' => (int) ceil( $result['total'] / $per_page ),
			)
		);
	}

	/**
	 * All / Sent / Failed / Partly sent.
	 *
	 * @return array<string, string>
	 */
	protected function get_views() {
		$current = isset( $_REQUEST['status'] ) ? sanitize_key( wp_unslash( $_REQUEST['status'] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		$views   = array();
		foreach (
			array(
				''        => __( 'All', 'smtpcore-mailer' ),
				'sent'    => __( 'Sent', 'smtpcore-mailer' ),
				'failed'  => __( 'Failed', 'smtpcore-mailer' ),
				'partial' => __( 'Partly sent', 'smtpcore-mailer' ),
			) as $status => $label
		) {
			$url                                = Admin::url( 'log', '' === $status ? array() : array( 'status' => $status ) );
			$views[ '' === $status ? 'all' : $status ] = sprintf(
				'<a href="%1$s"%2$s>%3$s</a>',
				esc_url( $url ),
				$current === $status ? ' class="current" aria-current="page"' : '',
				esc_html( $label )
			);
		}
		return $views;
	}

	/**
	 * The delete button, which posts the ticked rows to admin-post.php.
	 *
	 * @param string $which top or bottom.
	 */
	protected function extra_tablenav( $which ) {
		if ( 'top' !== $which || ! $this->has_items() ) {
			return;
		}
		echo '<div class="alignleft actions">';
		printf(
			'<button type="submit" class="button" name="action" value="smtpcore_mailer_delete_logs" formmethod="post" formaction="%1$s">%2$s</button>',
			esc_url( admin_url( 'admin-post.php' ) ),
			esc_html__( 'Delete selected', 'smtpcore-mailer' )
		);
		echo '</div>';
	}

	public function no_items() {
		esc_html_e( 'No emails logged yet.', 'smtpcore-mailer' );
	}

	/**
	 * @param array<string, mixed> $item Row.
	 */
	protected function column_cb( $item ) {
		return sprintf(
			'<label class="screen-reader-text" for="smtpcore-entry-%1$d">%2$s</label><input type="checkbox" id="smtpcore-entry-%1$d" name="entry[]" value="%1$d">',
			(int) $item['id'],
			esc_html__( 'Select entry', 'smtpcore-mailer' )
		);
	}

	/**
	 * @param array<string, mixed> $item Row.
	 */
	protected function column_created_at( $item ) {
		$time = strtotime( $item['created_at'] . ' UTC' );
		return esc_html( wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), $time ) );
	}

	/**
	 * @param array<string, mixed> $item Row.
	 */
	protected function column_subject( $item ) {
		$url     = Admin::url( 'log', array( 'entry' => (int) $item['id'] ) );
		$subject = '' === (string) $item['subject'] ? __( '(no subject)', 'smtpcore-mailer' ) : (string) $item['subject'];
		return sprintf( '<strong><a class="row-title" href="%1$s">%2$s</a></strong>', esc_url( $url ), esc_html( $subject ) )
			. $this->row_actions( array( 'view' => sprintf( '<a href="%1$s">%2$s</a>', esc_url( $url ), esc_html__( 'View', 'smtpcore-mailer' ) ) ) );
	}

	/**
	 * @param array<string, mixed> $item Row.
	 */
	protected function column_status( $item ) {
		return Log_Page::status_badge( (string) $item['status'] );
	}

	/**
	 * @param array<string, mixed> $item Row.
	 */
	protected function column_details( $item ) {
		if ( 'sent' === $item['status'] ) {
			return esc_html( (string) $item['server_reply'] );
		}
		$code  = trim( ( $item['smtp_code'] ? $item['smtp_code'] : '' ) . ' ' . $item['enhanced_code'] );
		$error = (string) $item['error'];
		if ( '' !== $code && false === strpos( $error, $code ) ) {
			$error = $code . ' ' . $error;
		}
		return ( '' !== $item['category'] ? '<code>' . esc_html( (string) $item['category'] ) . '</code> ' : '' ) . esc_html( $error );
	}

	/**
	 * @param array<string, mixed> $item        Row.
	 * @param string               $column_name Column.
	 */
	protected function column_default( $item, $column_name ) {
		return esc_html( (string) ( $item[ $column_name ] ?? '' ) );
	}
}
