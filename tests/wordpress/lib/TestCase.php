<?php
/**
 * Base test case: configures the plugin for the test MTA, removes the hooks a
 * test added, and runs code in a separate WordPress process when a test needs
 * wp-config.php constants or no extension at all.
 */

namespace SmtpCoreMailerTests;

use SmtpCoreMailer\Settings;

abstract class TestCase extends \PHPUnit\Framework\TestCase {

	/** @var array<int, array{0: string, 1: callable, 2: int}> */
	private $hooks = array();

	/** @var string[] */
	private $temp_files = array();

	protected function setUp(): void {
		parent::setUp();
		wp_set_current_user( 0 );
		// A fresh PHPMailer, as in a new request: what one test's phpmailer_init set
		// (Sender, for one) would otherwise stay on WordPress's global instance.
		$GLOBALS['phpmailer'] = null;
		$this->configure();
		\SmtpCoreMailer\Transport::close();
	}

	protected function tearDown(): void {
		foreach ( $this->hooks as $hook ) {
			remove_filter( $hook[0], $hook[1], $hook[2] );
		}
		$this->hooks = array();
		foreach ( $this->temp_files as $file ) {
			@unlink( $file );
		}
		$this->temp_files = array();
		\SmtpCoreMailer\Transport::close();
		parent::tearDown();
	}

	/**
	 * Sets the plugin's option: the MTA's submission port (STARTTLS + AUTH as
	 * alice) with its CA file, unless $overrides says otherwise.
	 *
	 * @param array<string, mixed> $overrides Fields.
	 */
	protected function configure( array $overrides = array() ): void {
		$settings = array_merge(
			array(
				'preset'               => '',
				'region'               => '',
				'host'                 => '127.0.0.1',
				'port'                 => Mta::port( 'submission' ),
				'security'             => 'starttls',
				'auth'                 => true,
				'auth_mechanism'       => '',
				'username'             => 'alice@example.test',
				'password'             => Mta::password(),
				'allow_plaintext_auth' => false,
				'ca_file'              => Mta::ca_file(),
				'from_email'           => 'alice@example.test',
				'from_name'            => 'Test Site',
				'force_from'           => false,
				'return_path'          => '',
				'connect_timeout'      => 10,
				'timeout'              => 30,
				'log_enabled'          => true,
				'log_retention_days'   => 30,
			),
			$overrides
		);
		update_option( Settings::OPTION, $settings );
	}

	/** Adds a filter or action that tearDown() removes. */
	protected function hook( string $name, callable $callback, int $priority = 10, int $args = 1 ): void {
		add_filter( $name, $callback, $priority, $args );
		$this->hooks[] = array( $name, $callback, $priority );
	}

	/** A unique marker to find a message by. */
	protected function token( string $label = 't' ): string {
		return $label . '-' . bin2hex( random_bytes( 6 ) );
	}

	/** A temporary file with $bytes (removed in tearDown). */
	protected function temp_file( string $bytes, string $suffix = '.txt' ): string {
		$path = sys_get_temp_dir() . '/smtpcore-wp-' . bin2hex( random_bytes( 6 ) ) . $suffix;
		file_put_contents( $path, $bytes );
		$this->temp_files[] = $path;
		return $path;
	}

	/**
	 * Records every wp_mail_failed and wp_mail_succeeded during the test.
	 *
	 * @return \ArrayObject<string, array> 'failed' => WP_Error[], 'succeeded' => array[]
	 */
	protected function record_mail_events(): \ArrayObject {
		$events = new \ArrayObject(
			array(
				'failed'    => array(),
				'succeeded' => array(),
			)
		);
		$this->hook(
			'wp_mail_failed',
			static function ( $error ) use ( $events ) {
				$events['failed'] = array_merge( $events['failed'], array( $error ) );
			}
		);
		$this->hook(
			'wp_mail_succeeded',
			static function ( $data ) use ( $events ) {
				$events['succeeded'] = array_merge( $events['succeeded'], array( $data ) );
			}
		);
		return $events;
	}

	/**
	 * Runs PHP code in a new process that loads this WordPress, with wp-config
	 * constants defined first. The code's last expression is returned as JSON.
	 *
	 * @param string               $code      PHP code (without <?php) that sets $result.
	 * @param array<string, mixed> $constants SMTPCORE_* constants to define.
	 * @param bool                 $extension Load the smtpcore extension.
	 * @return mixed $result, decoded.
	 */
	protected function run_in_wordpress( string $code, array $constants = array(), bool $extension = true ) {
		$script = $this->temp_file( "<?php\n" . $code . "\n", '.php' );
		$php    = array( PHP_BINARY );
		if ( $extension ) {
			$php[] = '-d';
			$php[] = 'extension=' . getenv( 'SMTPCORE_PHP_EXT' );
		}
		$cmd = implode( ' ', array_map( 'escapeshellarg', array_merge( $php, array( __DIR__ . '/../bin/wp-run.php', $script ) ) ) );
		$env = 'SMTPCORE_WP_CONSTANTS=' . escapeshellarg( (string) wp_json_encode( (object) $constants ) );
		$out = shell_exec( $env . ' ' . $cmd . ' 2>&1' );
		$pos = strrpos( (string) $out, "\n@@RESULT@@" );
		$this->assertNotFalse( $pos, "the WordPress process failed:\n" . $out );
		return json_decode( substr( (string) $out, $pos + strlen( "\n@@RESULT@@" ) ), true );
	}
}
