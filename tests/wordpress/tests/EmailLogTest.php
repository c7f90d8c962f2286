<?php
/**
 * The email log table: what a send writes, search and paging, retention
 * pruning on write (WP-Cron is off in these tests), logging off.
 */

namespace SmtpCoreMailerTests;

use SmtpCoreMailer\Email_Log;

final class EmailLogTest extends TestCase {

	public function test_a_sent_message_is_logged_with_the_servers_reply(): void {
		$token = $this->token( 'log-sent' );
		$file  = $this->temp_file( 'x' );
		$this->assertTrue( wp_mail( 'Bob <bob@example.test>', "Logged $token", "Body $token", "Cc: carol@example.test\nX-L: 1", array( 'n.txt' => $file ) ) );
		$rows = Email_Log::query( array( 'search' => $token ) );
		$this->assertSame( 1, $rows['total'] );
		$entry = Email_Log::get( (int) $rows['items'][0]['id'] );
		$this->assertSame( 'sent', $entry['status'] );
		$this->assertSame( "Logged $token", $entry['subject'] );
		$this->assertStringContainsString( 'bob@example.test', $entry['to_addrs'] );
		$this->assertStringContainsString( 'alice@example.test', $entry['from_addr'] );
		$this->assertMatchesRegularExpression( '/^250 2\.0\.0 .*queued as [0-9A-Za-z]+/', $entry['server_reply'] );
		$this->assertSame( '', $entry['error'] );
		$this->assertSame( "Body $token", $entry['message'] );
		$this->assertSame( array( 'Cc: carol@example.test', 'X-L: 1' ), $entry['headers'] );
		$this->assertSame( array( 'n.txt' => $file ), $entry['attachments'] );
		$this->assertSame( array( 'carol@example.test' ), $entry['details']['cc'] );
		$this->assertSame( '127.0.0.1', $entry['details']['transport']['host'] );
		$this->assertSame( Mta::port( 'submission' ), $entry['details']['transport']['port'] );
		$this->assertSame( 'alice@example.test', $entry['details']['transport']['username'] );
		$this->assertArrayNotHasKey( 'password', $entry['details']['transport'] );
		$this->assertEqualsCanonicalizing( array( 'bob@example.test', 'carol@example.test' ), $entry['details']['accepted'] );
		$this->assertSame( 'n.txt', $entry['details']['attachments'][0]['name'] );
		$this->assertSame( $entry['server_reply'], \SmtpCoreMailer\Mailer::reply_line( \SmtpCoreMailer\Mailer::last_attempt()['outcome'] ) );
		Mta::wait_for( 'bob', $token );
	}

	public function test_search_status_and_paging(): void {
		$token = $this->token( 'page' );
		for ( $i = 1; $i <= 5; $i++ ) {
			Email_Log::add(
				array(
					'status'   => 3 === $i ? 'failed' : 'sent',
					'to_addrs' => "p$i@example.test",
					'subject'  => "Page $token $i",
				)
			);
		}
		$all = Email_Log::query( array( 'search' => $token, 'per_page' => 2, 'page' => 1 ) );
		$this->assertSame( 5, $all['total'] );
		$this->assertSame( array( "Page $token 5", "Page $token 4" ), array_column( $all['items'], 'subject' ), 'newest first' );
		$page3 = Email_Log::query( array( 'search' => $token, 'per_page' => 2, 'page' => 3 ) );
		$this->assertSame( array( "Page $token 1" ), array_column( $page3['items'], 'subject' ) );
		$failed = Email_Log::query( array( 'search' => $token, 'status' => 'failed' ) );
		$this->assertSame( array( "Page $token 3" ), array_column( $failed['items'], 'subject' ) );
		$asc = Email_Log::query( array( 'search' => $token, 'orderby' => 'subject', 'order' => 'asc', 'per_page' => 1 ) );
		$this->assertSame( "Page $token 1", $asc['items'][0]['subject'] );
		$this->assertSame( 0, Email_Log::query( array( 'search' => "%' OR 1=1 -- $token" ) )['total'], 'search is escaped' );
		$this->assertSame( 5, Email_Log::delete( array_map( 'intval', array_column( Email_Log::query( array( 'search' => $token ) )['items'], 'id' ) ) ) );
	}

	public function test_old_entries_are_pruned_when_a_new_one_is_written(): void {
		global $wpdb;
		$token = $this->token( 'prune' );
		$this->configure( array( 'log_retention_days' => 30 ) );
		$old_id = Email_Log::add( array( 'status' => 'sent', 'subject' => "Old $token" ) );
		$new_id = Email_Log::add( array( 'status' => 'sent', 'subject' => "Recent $token" ) );
		$wpdb->update( Email_Log::table(), array( 'created_at' => gmdate( 'Y-m-d H:i:s', time() - 31 * DAY_IN_SECONDS ) ), array( 'id' => $old_id ) );
		$wpdb->update( Email_Log::table(), array( 'created_at' => gmdate( 'Y-m-d H:i:s', time() - 29 * DAY_IN_SECONDS ) ), array( 'id' => $new_id ) );

		$this->assertTrue( wp_mail( 'bob@example.test', "Prune trigger $token", 'x' ) );
		$this->assertNull( Email_Log::get( $old_id ), 'older than 30 days: deleted' );
		$this->assertNotNull( Email_Log::get( $new_id ), '29 days old: kept' );

		$this->configure( array( 'log_retention_days' => 0 ) );
		$wpdb->update( Email_Log::table(), array( 'created_at' => '2001-01-01 00:00:00' ), array( 'id' => $new_id ) );
		Email_Log::add( array( 'status' => 'sent', 'subject' => "Another $token" ) );
		$this->assertNotNull( Email_Log::get( $new_id ), '0 days: kept forever' );
		Email_Log::delete( array_map( 'intval', array_column( Email_Log::query( array( 'search' => $token ) )['items'], 'id' ) ) );
	}

	public function test_logging_off_writes_nothing(): void {
		$token = $this->token( 'nolog' );
		$this->configure( array( 'log_enabled' => false ) );
		$this->assertTrue( wp_mail( 'bob@example.test', "Not logged $token", 'x' ) );
		$this->assertSame( 0, Email_Log::query( array( 'search' => $token ) )['total'] );
		Mta::wait_for( 'bob', $token );
	}
}
