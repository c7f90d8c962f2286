<?php
/**
 * The sanitize callback of the settings option.
 *
 * Registered on every request (not only in wp-admin) so that update_option()
 * from code or WP-CLI stores a value of the same shape as the settings page
 * does, with the password encrypted.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Turns submitted values into the stored option.
 */
final class Settings_Sanitizer {

	const BOOLEANS = array( 'auth', 'allow_plaintext_auth', 'force_from', 'log_enabled' );

	/**
	 * Registers the option with the Settings API.
	 */
	public static function register(): void {
		register_setting(
			'smtpcore_mailer',
			Settings::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( self::class, 'sanitize' ),
				'default'           => Settings::defaults(),
				'show_in_rest'      => false,
			)
		);
	}

	/**
	 * Merges submitted values into the stored ones.
	 *
	 * Fields locked by a constant keep their stored value. From the settings form
	 * (marked by _form) an unticked checkbox means false; from code, a missing key
	 * means "unchanged". 'password' is write-only: it is encrypted into
	 * password_enc, and an empty one keeps the stored password.
	 *
	 * @param mixed $input Submitted value.
	 * @return array<string, mixed>
	 */
	public static function sanitize( $input ): array {
		$stored = Settings::stored();
		if ( ! is_array( $input ) ) {
			return $stored;
		}
		$form = ! empty( $input['_form'] );
		$out  = $stored;

		foreach ( Settings::defaults() as $field => $default ) {
			if ( 'password_enc' === $field || null !== Settings::locking_constant( $field ) ) {
				continue;
			}
			if ( ! array_key_exists( $field, $input ) ) {
				if ( $form && in_array( $field, self::BOOLEANS, true ) ) {
					$out[ $field ] = false;
				}
				continue;
			}
			$value = self::clean( $field, $input[ $field ], $stored[ $field ] );
			if ( null !== $value ) {
				$out[ $field ] = $value;
			}
		}

		// A value that is already sanitized (the Settings API may run this twice on a first save).
		if ( ! array_key_exists( 'password', $input ) && isset( $input['password_enc'] ) && is_string( $input['password_enc'] )
			&& ( '' === $input['password_enc'] || null !== Crypto::decrypt( $input['password_enc'] ) ) ) {
			$out['password_enc'] = $input['password_enc'];
		}

		if ( null === Settings::locking_constant( 'password' ) ) {
			if ( ! empty( $input['password_clear'] ) ) {
				$out['password_enc'] = '';
			} elseif ( isset( $input['password'] ) && is_string( $input['password'] ) && '' !== $input['password'] ) {
				$out['password_enc'] = self::encrypt_password( $input['password'], $stored['password_enc'] );
			}
		}
		return $out;
	}

	/**
	 * One field's clean value, or null to keep the stored one (after reporting why).
	 *
	 * @param string $field  Field name.
	 * @param mixed  $value  Submitted value.
	 * @param mixed  $stored Stored value.
	 * @return mixed
	 */
	private static function clean( string $field, $value, $stored ) {
		if ( in_array( $field, self::BOOLEANS, true ) ) {
			return (bool) filter_var( $value, FILTER_VALIDATE_BOOLEAN );
		}
		$value = is_scalar( $value ) ? trim( self::strip_controls( (string) $value ) ) : '';
		switch ( $field ) {
			case 'preset':
				$presets = Settings::presets();
				if ( '' === $value || isset( $presets[ $value ] ) || ! $presets ) {
					return sanitize_key( $value ) === strtolower( $value ) ? $value : '';
				}
				return self::reject( $field, __( 'Unknown provider preset.', 'smtpcore-mailer' ) );
			case 'region':
				return preg_match( '/^[a-z0-9-]{0,32}$/', $value ) ? $value : self::reject( $field, __( 'A region looks like us-east-1.', 'smtpcore-mailer' ) );
			case 'host':
				if ( '' === $value || preg_match( '/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*|[A-Za-z0-9._{}-]+)$/', $value ) ) {
					return $value;
				}
				return self::reject( $field, __( 'The SMTP host must be a host name or an IP address (no scheme, no port).', 'smtpcore-mailer' ) );
			case 'port':
				if ( '' === $value || '0' === $value ) {
					return 0; // The default port of the encryption mode.
				}
				return ctype_digit( $value ) && (int) $value >= 1 && (int) $value <= 65535
					? (int) $value
					: self::reject( $field, __( 'The port must be a number from 1 to 65535 (or empty for the default).', 'smtpcore-mailer' ) );
			case 'security':
				return in_array( $value, Settings::SECURITY_MODES, true ) ? $value : self::reject( $field, __( 'Unknown encryption mode.', 'smtpcore-mailer' ) );
			case 'auth_mechanism':
				return in_array( strtoupper( $value ), Settings::AUTH_MECHANISMS, true ) ? strtoupper( $value ) : self::reject( $field, __( 'Unknown authentication mechanism.', 'smtpcore-mailer' ) );
			case 'username':
				return $value;
			case 'ca_file':
				if ( '' !== $value && ( ! is_file( $value ) || ! is_readable( $value ) ) ) {
					self::report( $field, __( 'The CA file cannot be read by the web server; sending will fail until it can.', 'smtpcore-mailer' ), 'warning' );
				}
				return $value;
			case 'from_email':
			case 'return_path':
				if ( '' === $value ) {
					return '';
				}
				return is_email( $value ) ? sanitize_email( $value ) : self::reject( $field, __( 'That is not a valid email address.', 'smtpcore-mailer' ) );
			case 'from_name':
				return sanitize_text_field( $value );
			case 'connect_timeout':
			case 'timeout':
				return min( 600, max( 1, (int) $value ) );
			case 'log_retention_days':
				return min( 3650, max( 0, (int) $value ) );
		}
		return sanitize_text_field( $value );
	}

	/**
	 * @param string $password The new password.
	 * @param string $previous The stored ciphertext, kept when this one cannot be stored.
	 */
	private static function encrypt_password( #[\SensitiveParameter] string $password, string $previous ): string {
		if ( strpbrk( $password, "\r\n\0" ) !== false ) {
			self::reject( 'password', __( 'The password cannot contain line breaks.', 'smtpcore-mailer' ) );
			return $previous;
		}
		$encrypted = Crypto::encrypt( $password );
		if ( null === $encrypted ) {
			self::reject( 'password', __( 'The password was not saved: there is no encryption key. Define SMTPCORE_KEY (or the AUTH_KEY and SECURE_AUTH_KEY salts) in wp-config.php, or put the password itself in SMTPCORE_PASS there.', 'smtpcore-mailer' ) );
			return $previous;
		}
		return $encrypted;
	}

	private static function strip_controls( string $value ): string {
		return (string) preg_replace( '/[\x00-\x1F\x7F]/', '', $value );
	}

	/**
	 * Reports a refused value and returns null (keep the stored value).
	 */
	private static function reject( string $field, string $message ) {
		self::report( $field, $message, 'error' );
		return null;
	}

	private static function report( string $field, string $message, string $type ): void {
		if ( function_exists( 'add_settings_error' ) ) {
			add_settings_error( Settings::OPTION, 'smtpcore_mailer_' . $field, $message, $type );
		}
	}
}
