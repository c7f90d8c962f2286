<?php
/**
 * The plugin's settings: one option (an array), overlaid by wp-config.php constants.
 *
 * A constant always wins over the stored value and locks the field it sets, so
 * a host can pin the server and keep the password out of the database.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Reads and describes the settings; writing goes through the Settings API (admin/).
 */
final class Settings {

	const OPTION = 'smtpcore_mailer_settings';

	const SECURITY_MODES = array( 'starttls', 'tls', 'opportunistic', 'none' );

	const AUTH_MECHANISMS = array( '', 'PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-256' );

	/**
	 * Field => wp-config.php constant that sets (and locks) it.
	 */
	const CONSTANTS = array(
		'preset'               => 'SMTPCORE_PRESET',
		'region'               => 'SMTPCORE_REGION',
		'host'                 => 'SMTPCORE_HOST',
		'port'                 => 'SMTPCORE_PORT',
		'security'             => 'SMTPCORE_SECURITY',
		'auth'                 => 'SMTPCORE_AUTH',
		'auth_mechanism'       => 'SMTPCORE_AUTH_MECHANISM',
		'username'             => 'SMTPCORE_USER',
		'password'             => 'SMTPCORE_PASS',
		'allow_plaintext_auth' => 'SMTPCORE_ALLOW_PLAINTEXT_AUTH',
		'ca_file'              => 'SMTPCORE_CA_FILE',
		'from_email'           => 'SMTPCORE_FROM',
		'from_name'            => 'SMTPCORE_FROM_NAME',
		'force_from'           => 'SMTPCORE_FORCE_FROM',
		'return_path'          => 'SMTPCORE_RETURN_PATH',
		'connect_timeout'      => 'SMTPCORE_CONNECT_TIMEOUT',
		'timeout'              => 'SMTPCORE_TIMEOUT',
		'log_enabled'          => 'SMTPCORE_LOG',
		'log_retention_days'   => 'SMTPCORE_LOG_RETENTION_DAYS',
	);

	/**
	 * The stored option's shape. The password is never stored in clear: only
	 * password_enc (see Crypto) is.
	 *
	 * @return array<string, mixed>
	 */
	public static function defaults(): array {
		return array(
			'preset'               => '',
			'region'               => '',
			'host'                 => '',
			'port'                 => 0,
			'security'             => 'starttls',
			'auth'                 => true,
			'auth_mechanism'       => '',
			'username'             => '',
			'password_enc'         => '',
			'allow_plaintext_auth' => false,
			'ca_file'              => '',
			'from_email'           => '',
			'from_name'            => '',
			'force_from'           => false,
			'return_path'          => '',
			'connect_timeout'      => 10,
			'timeout'              => 30,
			'log_enabled'          => true,
			'log_retention_days'   => 30,
		);
	}

	/**
	 * The stored option merged over the defaults (no constants applied).
	 *
	 * @return array<string, mixed>
	 */
	public static function stored(): array {
		$stored = get_option( self::OPTION, array() );
		if ( ! is_array( $stored ) ) {
			$stored = array();
		}
		return array_merge( self::defaults(), array_intersect_key( $stored, self::defaults() ) );
	}

	/**
	 * The constant that locks $field, or null when the field is free.
	 */
	public static function locking_constant( string $field ): ?string {
		if ( ! isset( self::CONSTANTS[ $field ] ) ) {
			return null;
		}
		$name = self::CONSTANTS[ $field ];
		return defined( $name ) ? $name : null;
	}

	/**
	 * The value in effect for one field: the constant when defined, else the stored value.
	 *
	 * @param string $field A key of defaults(), or 'password'.
	 * @return mixed
	 */
	public static function get( string $field ) {
		$constant = self::locking_constant( $field );
		if ( null !== $constant ) {
			return self::coerce( $field, constant( $constant ) );
		}
		if ( 'password' === $field ) {
			$enc = (string) self::stored()['password_enc'];
			if ( '' === $enc ) {
				return '';
			}
			$plain = Crypto::decrypt( $enc );
			return null === $plain ? '' : $plain;
		}
		if ( 'auth' === $field && null !== self::locking_constant( 'password' ) && ! defined( 'SMTPCORE_AUTH' ) ) {
			return true; // A password constant means "authenticate".
		}
		$stored = self::stored();
		return array_key_exists( $field, $stored ) ? self::coerce( $field, $stored[ $field ] ) : null;
	}

	/**
	 * Where the password comes from: 'constant', 'stored', 'undecryptable' or 'none'.
	 */
	public static function password_source(): string {
		if ( null !== self::locking_constant( 'password' ) ) {
			return 'constant';
		}
		$enc = (string) self::stored()['password_enc'];
		if ( '' === $enc ) {
			return 'none';
		}
		return null === Crypto::decrypt( $enc ) ? 'undecryptable' : 'stored';
	}

	/**
	 * Values as the type each field has, whatever a constant or an old option holds.
	 *
	 * @param string $field Field name.
	 * @param mixed  $value Raw value.
	 * @return mixed
	 */
	public static function coerce( string $field, $value ) {
		switch ( $field ) {
			case 'port':
			case 'log_retention_days':
				return max( 0, (int) $value );
			case 'connect_timeout':
			case 'timeout':
				return max( 1, (int) $value );
			case 'auth':
			case 'allow_plaintext_auth':
			case 'force_from':
			case 'log_enabled':
				return filter_var( $value, FILTER_VALIDATE_BOOLEAN );
			case 'security':
				$value = strtolower( (string) $value );
				return in_array( $value, self::SECURITY_MODES, true ) ? $value : 'starttls';
			case 'auth_mechanism':
				$value = strtoupper( (string) $value );
				return in_array( $value, self::AUTH_MECHANISMS, true ) ? $value : '';
			default:
				return is_scalar( $value ) ? (string) $value : '';
		}
	}

	/**
	 * The provider presets the extension knows, by name (empty without the extension).
	 *
	 * @return array<string, array<string, mixed>>
	 */
	public static function presets(): array {
		if ( ! function_exists( 'SmtpCore\\presets' ) ) {
			return array();
		}
		return \SmtpCore\presets();
	}

	/**
	 * Host, port and security after filling the blanks from the chosen preset.
	 *
	 * @return array{host: string, port: int, security: string}
	 */
	public static function server(): array {
		$host     = trim( (string) self::get( 'host' ) );
		$port     = (int) self::get( 'port' );
		$security = (string) self::get( 'security' );
		$preset   = (string) self::get( 'preset' );
		$presets  = '' !== $preset ? self::presets() : array();
		if ( isset( $presets[ $preset ] ) ) {
			if ( '' === $host ) {
				$host = (string) $presets[ $preset ]['host'];
			}
			if ( 0 === $port ) {
				$port = (int) $presets[ $preset ]['port'];
			}
		}
		$region = trim( (string) self::get( 'region' ) );
		if ( '' !== $region ) {
			$host = str_replace( '{region}', $region, $host );
		}
		if ( 0 === $port ) {
			$port = 'tls' === $security ? 465 : ( 'none' === $security ? 25 : 587 );
		}
		return array(
			'host'     => $host,
			'port'     => $port,
			'security' => $security,
		);
	}

	/**
	 * True when there is a server to send to: until then WordPress's own mailer stays in charge.
	 */
	public static function is_configured(): bool {
		$host = self::server()['host'];
		return '' !== $host && false === strpos( $host, '{' );
	}

	/**
	 * The options for SmtpCore\Client, secrets included: never print or log this array.
	 *
	 * @return array<string, mixed>
	 */
	public static function client_options(): array {
		$server  = self::server();
		$options = array(
			'host'           => $server['host'],
			'port'           => $server['port'],
			'security'       => $server['security'],
			'timeout'        => (int) self::get( 'timeout' ),
			'connectTimeout' => (int) self::get( 'connect_timeout' ),
			'transcript'     => true,
		);
		if ( self::get( 'auth' ) && '' !== (string) self::get( 'username' ) ) {
			$options['username'] = (string) self::get( 'username' );
			$options['password'] = (string) self::get( 'password' );
			if ( '' !== self::get( 'auth_mechanism' ) ) {
				$options['authMechanism'] = (string) self::get( 'auth_mechanism' );
			}
			if ( self::get( 'allow_plaintext_auth' ) ) {
				$options['allowPlaintextAuth'] = true;
			}
		}
		$ca_file = trim( (string) self::get( 'ca_file' ) );
		if ( '' !== $ca_file ) {
			$options['caFile'] = $ca_file;
		}
		if ( defined( 'SMTPCORE_EHLO_NAME' ) && '' !== (string) SMTPCORE_EHLO_NAME ) {
			$options['ehloName'] = (string) SMTPCORE_EHLO_NAME;
		}
		/**
		 * Filters the options given to SmtpCore\Client (for options the settings page does not offer).
		 *
		 * @param array $options Client options; contains the password.
		 */
		return (array) apply_filters( 'smtpcore_mailer_client_options', $options );
	}

	/**
	 * What the log and the test page may show about the transport: no secrets.
	 *
	 * @return array<string, mixed>
	 */
	public static function describe_transport(): array {
		$server = self::server();
		return array(
			'host'     => $server['host'],
			'port'     => $server['port'],
			'security' => $server['security'],
			'username' => self::get( 'auth' ) ? (string) self::get( 'username' ) : '',
		);
	}
}
