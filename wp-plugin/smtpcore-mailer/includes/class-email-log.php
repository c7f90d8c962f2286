<?php
/**
 * The email log: one row per message the plugin tried to send.
 *
 * Rows can hold password-reset links and other secrets sent by email, so only
 * users with manage_options ever see them (admin/). Old rows are pruned when a
 * new one is written, so the retention works without WP-Cron.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Storage of log entries in a custom table.
 */
final class Email_Log {

	const DB_VERSION = '1';

	const DB_VERSION_OPTION = 'smtpcore_mailer_db_version';

	/**
	 * The table's name for the current site.
	 */
	public static function table(): string {
		global $wpdb;
		return $wpdb->prefix . 'smtpcore_mailer_log';
	}

	/**
	 * Creates or upgrades the table (dbDelta is idempotent).
	 */
	public static function install(): void {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$table   = self::table();
		$charset = $wpdb->get_charset_collate();
		dbDelta(
			"CREATE TABLE {$table} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  created_at datetime NOT NULL,
  status varchar(20) NOT NULL,
  to_addrs text NOT NULL,
  subject text NOT NULL,
  from_addr varchar(320) NOT NULL DEFAULT '',
  error text NOT NULL,
  category varchar(20) NOT NULL DEFAULT '',
  smtp_code smallint(5) unsigned NOT NULL DEFAULT 0,
  enhanced_code varchar(16) NOT NULL DEFAULT '',
  server_reply text NOT NULL,
  details longtext NOT NULL,
  headers longtext NOT NULL,
  message longtext NOT NULL,
  attachments longtext NOT NULL,
  PRIMARY KEY  (id),
  KEY created_at (created_at),
  KEY status (status)
) {$charset};"
		);
		update_option( self::DB_VERSION_OPTION, self::DB_VERSION, true );
	}

	/**
	 * Installs the table when the stored schema version is not ours (new site, update without reactivation).
	 */
	public static function maybe_install(): void {
		if ( get_option( self::DB_VERSION_OPTION ) !== self::DB_VERSION ) {
			self::install();
		}
	}

	/**
	 * Writes one entry and prunes entries older than the retention period.
	 *
	 * @param array<string, mixed> $entry Columns; details, headers and attachments are arrays (stored as JSON).
	 * @return int The new row's id, 0 when logging is off or the write failed.
	 */
	public static function add( array $entry ): int {
		global $wpdb;
		if ( ! Settings::get( 'log_enabled' ) ) {
			return 0;
		}
		self::maybe_install();
		$row = array(
			'created_at'    => gmdate( 'Y-m-d H:i:s' ),
			'status'        => (string) ( $entry['status'] ?? 'failed' ),
			'to_addrs'      => (string) ( $entry['to_addrs'] ?? '' ),
			'subject'       => (string) ( $entry['subject'] ?? '' ),
			'from_addr'     => substr( (string) ( $entry['from_addr'] ?? '' ), 0, 320 ),
			'error'         => (string) ( $entry['error'] ?? '' ),
			'category'      => substr( (string) ( $entry['category'] ?? '' ), 0, 20 ),
			'smtp_code'     => (int) ( $entry['smtp_code'] ?? 0 ),
			'enhanced_code' => substr( (string) ( $entry['enhanced_code'] ?? '' ), 0, 16 ),
			'server_reply'  => (string) ( $entry['server_reply'] ?? '' ),
			'details'       => (string) wp_json_encode( $entry['details'] ?? array() ),
			'headers'       => (string) wp_json_encode( $entry['headers'] ?? array() ),
			'message'       => (string) ( $entry['message'] ?? '' ),
			'attachments'   => (string) wp_json_encode( $entry['attachments'] ?? array() ),
		);
		$ok = $wpdb->insert( self::table(), $row, array( '%s', '%s', '%s', '%s', '%s', '%s', '%s', '%d', '%s', '%s', '%s', '%s', '%s', '%s' ) );
		$id = $ok ? (int) $wpdb->insert_id : 0;
		self::prune();
		return $id;
	}

	/**
	 * Deletes entries older than the retention period (0 days: keep everything).
	 */
	public static function prune(): void {
		global $wpdb;
		$days = (int) Settings::get( 'log_retention_days' );
		if ( $days <= 0 ) {
			return;
		}
		$cutoff = gmdate( 'Y-m-d H:i:s', time() - $days * DAY_IN_SECONDS );
		$table  = self::table();
		$wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE created_at < %s", $cutoff ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * One entry with its JSON columns decoded, or null.
	 *
	 * @return array<string, mixed>|null
	 */
	public static function get( int $id ): ?array {
		global $wpdb;
		$table = self::table();
		$row   = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$table} WHERE id = %d", $id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		return $row ? self::decode( $row ) : null;
	}

	/**
	 * A page of entries, newest first unless asked otherwise.
	 *
	 * @param array<string, mixed> $args search, status, orderby (created_at|status|to_addrs|subject), order, per_page, page.
	 * @return array{items: array<int, array<string, mixed>>, total: int}
	 */
	public static function query( array $args ): array {
		global $wpdb;
		$table  = self::table();
		$where  = array( '1=1' );
		$params = array();
		$search = trim( (string) ( $args['search'] ?? '' ) );
		if ( '' !== $search ) {
			$like     = '%' . $wpdb->esc_like( $search ) . '%';
			$where[]  = '(to_addrs LIKE %s OR subject LIKE %s OR error LIKE %s OR from_addr LIKE %s OR server_reply LIKE %s)';
			$params[] = $like;
			$params[] = $like;
			$params[] = $like;
			$params[] = $like;
			$params[] = $like;
		}
		$status = (string) ( $args['status'] ?? '' );
		if ( in_array( $status, array( 'sent', 'failed', 'partial' ), true ) ) {
			$where[]  = 'status = %s';
			$params[] = $status;
		}
		$orderby  = in_array( $args['orderby'] ?? '', array( 'created_at', 'status', 'to_addrs', 'subject' ), true ) ? $args['orderby'] : 'created_at';
		$order    = 'asc' === strtolower( (string) ( $args['order'] ?? '' ) ) ? 'ASC' : 'DESC';
		$per_page = max( 1, min( 500, (int) ( $args['per_page'] ?? 20 ) ) );
		$page     = max( 1, (int) ( $args['page'] ?? 1 ) );
		$sql_where = implode( ' AND ', $where );

		$count_sql = "SELECT COUNT(*) FROM {$table} WHERE {$sql_where}";
		$total     = (int) $wpdb->get_var( $params ? $wpdb->prepare( $count_sql, $params ) : $count_sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared

		$list_sql = "SELECT id, created_at, status, to_addrs, subject, from_addr, error, category, smtp_code, enhanced_code, server_reply
			FROM {$table} WHERE {$sql_where} ORDER BY {$orderby} {$order}, id {$order} LIMIT %d OFFSET %d";
		$items    = $wpdb->get_results( $wpdb->prepare( $list_sql, array_merge( $params, array( $per_page, ( $page - 1 ) * $per_page ) ) ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared

		return array(
			'items' => is_array( $items ) ? $items : array(),
			'total' => $total,
		);
	}

	/**
	 * Deletes entries by id.
	 *
	 * @param int[] $ids Row ids.
	 * @return int Rows deleted.
	 */
	public static function delete( array $ids ): int {
		global $wpdb;
		$ids = array_values( array_filter( array_map( 'intval', $ids ) ) );
		if ( ! $ids ) {
			return 0;
		}
		$table        = self::table();
		$placeholders = implode( ',', array_fill( 0, count( $ids ), '%d' ) );
		return (int) $wpdb->query( $wpdb->prepare( "DELETE FROM {$table} WHERE id IN ({$placeholders})", $ids ) ); // phpcs:ignore WordPress.DB.PreparedSQL
	}

	/**
	 * Deletes every entry.
	 */
	public static function clear(): void {
		global $wpdb;
		$table = self::table();
		$wpdb->query( "TRUNCATE TABLE {$table}" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * Drops the table and forgets its version (uninstall).
	 */
	public static function drop(): void {
		global $wpdb;
		$table = self::table();
		$wpdb->query( "DROP TABLE IF EXISTS {$table}" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		delete_option( self::DB_VERSION_OPTION );
	}

	/**
	 * @param array<string, mixed> $row A row from the table.
	 * @return array<string, mixed>
	 */
	private static function decode( array $row ): array {
		foreach ( array( 'details', 'headers', 'attachments' ) as $column ) {
			$decoded        = json_decode( (string) $row[ $column ], true );
			$row[ $column ] = is_array( $decoded ) ? $decoded : array();
		}
		$row['id']        = (int) $row['id'];
		$row['smtp_code'] = (int) $row['smtp_code'];
		return $row;
	}
}
