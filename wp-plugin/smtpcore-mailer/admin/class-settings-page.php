<?php
/**
 * The Settings tab (Settings API; the form posts to options.php, which checks
 * the nonce from settings_fields() and manage_options).
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer\Admin;

use SmtpCoreMailer\Crypto;
use SmtpCoreMailer\Settings;
use SmtpCoreMailer\Transport;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Sections, fields and their rendering.
 */
final class Settings_Page {

	const GROUP = 'smtpcore_mailer';

	/**
	 * Sections and fields.
	 */
	public static function register_fields(): void {
		$page = Admin::SLUG;

		add_settings_section( 'server', __( 'Server', 'smtpcore-mailer' ), '__return_false', $page );
		self::add( 'server', 'preset', __( 'Provider', 'smtpcore-mailer' ), array( 'type' => 'preset' ) );
		self::add(
			'server',
			'host',
			__( 'SMTP host', 'smtpcore-mailer' ),
			array(
				'placeholder' => 'smtp.example.com',
				'description' => __( 'Host name or IP address of the mail server.', 'smtpcore-mailer' ),
			)
		);
		self::add(
			'server',
			'port',
			__( 'Port', 'smtpcore-mailer' ),
			array(
				'type'        => 'number',
				'min'         => 0,
				'max'         => 65535,
				'input_class' => 'smtpcore-port',
				'description' => __( 'Empty: 587 for STARTTLS, 465 for TLS, 25 without encryption.', 'smtpcore-mailer' ),
			)
		);
		self::add(
			'server',
			'security',
			__( 'Encryption', 'smtpcore-mailer' ),
			array(
				'type'        => 'select',
				'options'     => array(
					'starttls'      => __( 'STARTTLS, required (port 587)', 'smtpcore-mailer' ),
					'tls'           => __( 'TLS from the start (port 465)', 'smtpcore-mailer' ),
					'opportunistic' => __( 'STARTTLS when offered, else unencrypted', 'smtpcore-mailer' ),
					'none'          => __( 'None (unencrypted)', 'smtpcore-mailer' ),
				),
				'description' => __( 'Certificates and host names are always verified.', 'smtpcore-mailer' ),
			)
		);
		self::add(
			'server',
			'region',
			__( 'Region', 'smtpcore-mailer' ),
			array(
				'placeholder' => 'us-east-1',
				'description' => __( 'Only for providers whose host name contains {region} (Amazon SES).', 'smtpcore-mailer' ),
			)
		);
		self::add(
			'server',
			'ca_file',
			__( 'CA file', 'smtpcore-mailer' ),
			array(
				'input_class' => 'large-text code',
				'placeholder' => '/etc/ssl/certs/ca-certificates.crt',
				'description' => __( 'Optional: a PEM file of certificate authorities to trust instead of the system ones (for a private CA).', 'smtpcore-mailer' ),
			)
		);

		add_settings_section( 'auth', __( 'Authentication', 'smtpcore-mailer' ), '__return_false', $page );
		self::add(
			'auth',
			'auth',
			__( 'Authentication', 'smtpcore-mailer' ),
			array(
				'type'  => 'checkbox',
				'label' => __( 'Log in to the server with a user name and password', 'smtpcore-mailer' ),
			)
		);
		self::add( 'auth', 'username', __( 'User name', 'smtpcore-mailer' ), array( 'autocomplete' => 'off' ) );
		self::add( 'auth', 'password', __( 'Password', 'smtpcore-mailer' ), array( 'type' => 'password' ) );
		self::add(
			'auth',
			'auth_mechanism',
			__( 'Mechanism', 'smtpcore-mailer' ),
			array(
				'type'    => 'select',
				'options' => array(
					''              => __( 'Automatic (the strongest the server offers)', 'smtpcore-mailer' ),
					'SCRAM-SHA-256' => 'SCRAM-SHA-256',
					'CRAM-MD5'      => 'CRAM-MD5',
					'PLAIN'         => 'PLAIN',
					'LOGIN'         => 'LOGIN',
				),
			)
		);
		self::add(
			'auth',
			'allow_plaintext_auth',
			__( 'Unencrypted login', 'smtpcore-mailer' ),
			array(
				'type'  => 'checkbox',
				'label' => __( 'Allow sending the password over an unencrypted connection (not recommended)', 'smtpcore-mailer' ),
			)
		);

		add_settings_section( 'sender', __( 'Sender', 'smtpcore-mailer' ), '__return_false', $page );
		self::add(
			'sender',
			'from_email',
			__( 'From address', 'smtpcore-mailer' ),
			array(
				'type'        => 'email',
				'placeholder' => 'wordpress@' . (string) wp_parse_url( home_url(), PHP_URL_HOST ),
				'description' => __( 'Used when a message does not set its own sender (instead of wordpress@your-site).', 'smtpcore-mailer' ),
			)
		);
		self::add( 'sender', 'from_name', __( 'From name', 'smtpcore-mailer' ), array( 'placeholder' => 'WordPress' ) );
		self::add(
			'sender',
			'force_from',
			__( 'Force From', 'smtpcore-mailer' ),
			array(
				'type'  => 'checkbox',
				'label' => __( 'Use this address and name for every email, even when a plugin sets another (many servers require it)', 'smtpcore-mailer' ),
			)
		);
		self::add(
			'sender',
			'return_path',
			__( 'Return-Path', 'smtpcore-mailer' ),
			array(
				'type'        => 'email',
				'description' => __( 'Optional: where bounces go (the envelope sender). Empty: the From address.', 'smtpcore-mailer' ),
			)
		);

		add_settings_section( 'timeouts', __( 'Timeouts', 'smtpcore-mailer' ), '__return_false', $page );
		self::add(
			'timeouts',
			'connect_timeout',
			__( 'Connect timeout', 'smtpcore-mailer' ),
			array(
				'type'   => 'number',
				'min'    => 1,
				'max'    => 600,
				'suffix' => __( 'seconds', 'smtpcore-mailer' ),
			)
		);
		self::add(
			'timeouts',
			'timeout',
			__( 'Reply timeout', 'smtpcore-mailer' ),
			array(
				'type'        => 'number',
				'min'         => 1,
				'max'         => 600,
				'suffix'      => __( 'seconds', 'smtpcore-mailer' ),
				'description' => __( 'How long to wait for each reply of the server.', 'smtpcore-mailer' ),
			)
		);

		add_settings_section( 'log', __( 'Email log', 'smtpcore-mailer' ), '__return_false', $page );
		self::add(
			'log',
			'log_enabled',
			__( 'Log', 'smtpcore-mailer' ),
			array(
				'type'  => 'checkbox',
				'label' => __( 'Keep a log of sent and failed emails (visible to administrators only)', 'smtpcore-mailer' ),
			)
		);
		self::add(
			'log',
			'log_retention_days',
			__( 'Keep entries for', 'smtpcore-mailer' ),
			array(
				'type'        => 'number',
				'min'         => 0,
				'max'         => 3650,
				'suffix'      => __( 'days', 'smtpcore-mailer' ),
				'description' => __( '0 keeps entries forever. Older entries are deleted whenever a new one is written.', 'smtpcore-mailer' ),
			)
		);
	}

	/**
	 * The Settings tab.
	 */
	public static function render(): void {
		self::status();
		echo '<form method="post" action="' . esc_url( admin_url( 'options.php' ) ) . '" class="smtpcore-settings" autocomplete="off">';
		settings_fields( self::GROUP );
		echo '<input type="hidden" name="' . esc_attr( Settings::OPTION ) . '[_form]" value="1">';
		do_settings_sections( Admin::SLUG );
		submit_button( __( 'Save settings', 'smtpcore-mailer' ) );
		echo '</form>';
		self::constants_help();
	}

	/**
	 * What is in effect: the extension, the server, where the password comes from.
	 */
	private static function status(): void {
		$server = Settings::server();
		echo '<table class="widefat striped smtpcore-overview"><tbody>';
		echo '<tr><th scope="row">' . esc_html__( 'Extension', 'smtpcore-mailer' ) . '</th><td>';
		if ( Transport::available() ) {
			/* translators: %s: version number */
			echo '<span class="smtpcore-ok">' . esc_html( sprintf( __( 'smtpcore %s loaded', 'smtpcore-mailer' ), Transport::version() ) ) . '</span>';
		} else {
			echo '<span class="smtpcore-bad">' . esc_html__( 'not loaded: WordPress sends with its built-in mailer', 'smtpcore-mailer' ) . '</span>';
		}
		echo '</td></tr>';
		echo '<tr><th scope="row">' . esc_html__( 'Email goes', 'smtpcore-mailer' ) . '</th><td>';
		if ( Transport::available() && Settings::is_configured() ) {
			/* translators: 1: host, 2: port, 3: encryption mode */
			echo esc_html( sprintf( __( 'through smtpcore to %1$s, port %2$d (%3$s)', 'smtpcore-mailer' ), $server['host'], $server['port'], $server['security'] ) );
		} else {
			echo esc_html__( 'through WordPress\'s built-in mailer (no SMTP server set)', 'smtpcore-mailer' );
		}
		echo '</td></tr>';
		echo '<tr><th scope="row">' . esc_html__( 'Password', 'smtpcore-mailer' ) . '</th><td>';
		switch ( Settings::password_source() ) {
			case 'constant':
				esc_html_e( 'from SMTPCORE_PASS in wp-config.php', 'smtpcore-mailer' );
				break;
			case 'stored':
				$key = 'SMTPCORE_KEY' === Crypto::key_source() ? 'SMTPCORE_KEY' : __( 'the AUTH_KEY and SECURE_AUTH_KEY salts', 'smtpcore-mailer' );
				/* translators: %s: where the key comes from */
				echo esc_html( sprintf( __( 'stored encrypted (key from %s in wp-config.php)', 'smtpcore-mailer' ), $key ) );
				break;
			case 'undecryptable':
				echo '<span class="smtpcore-bad">' . esc_html__( 'stored, but cannot be decrypted with the current key: enter it again', 'smtpcore-mailer' ) . '</span>';
				break;
			default:
				esc_html_e( 'none', 'smtpcore-mailer' );
		}
		echo '</td></tr>';
		echo '</tbody></table>';
	}

	/**
	 * The wp-config.php constants, as a reminder.
	 */
	private static function constants_help(): void {
		echo '<details class="smtpcore-constants"><summary>' . esc_html__( 'Settings from wp-config.php', 'smtpcore-mailer' ) . '</summary>';
		echo '<p>' . esc_html__( 'A constant defined in wp-config.php overrides the field it sets and locks it here. SMTPCORE_KEY sets the key the stored password is encrypted with.', 'smtpcore-mailer' ) . '</p>';
		echo '<pre>';
		foreach ( Settings::CONSTANTS as $field => $constant ) {
			echo esc_html( $constant ) . ( defined( $constant ) ? ' ' . esc_html__( '(defined)', 'smtpcore-mailer' ) : '' ) . "\n";
		}
		echo 'SMTPCORE_KEY' . ( defined( 'SMTPCORE_KEY' ) ? ' ' . esc_html__( '(defined)', 'smtpcore-mailer' ) : '' ) . "\n";
		echo '</pre></details>';
	}

	/**
	 * @param string               $section Section id.
	 * @param string               $field   Field name.
	 * @param string               $label   Label.
	 * @param array<string, mixed> $args    Rendering arguments.
	 */
	private static function add( string $section, string $field, string $label, array $args ): void {
		$args['field'] = $field;
		if ( 'checkbox' !== ( $args['type'] ?? 'text' ) ) {
			$args['label_for'] = 'smtpcore-' . $field;
		}
		add_settings_field( 'smtpcore-' . $field, $label, array( self::class, 'field' ), Admin::SLUG, $section, $args );
	}

	/**
	 * Renders one field; a field set by a constant is shown disabled with the constant's name.
	 *
	 * @param array<string, mixed> $args From add().
	 */
	public static function field( array $args ): void {
		$field    = (string) $args['field'];
		$type     = (string) ( $args['type'] ?? 'text' );
		$constant = Settings::locking_constant( $field );
		$locked   = null !== $constant;
		$name     = Settings::OPTION . '[' . $field . ']';
		$id       = 'smtpcore-' . $field;
		$value    = 'password' === $field ? '' : Settings::get( $field );
		$disabled = $locked ? ' disabled' : '';

		switch ( $type ) {
			case 'preset':
				$presets = Settings::presets();
				$data    = array();
				foreach ( $presets as $key => $preset ) {
					$data[ $key ] = array(
						'host'     => (string) $preset['host'],
						'port'     => (int) $preset['port'],
						'security' => (string) $preset['security'],
						'hint'     => (string) ( $preset['usernameHint'] ?? '' ),
					);
				}
				printf( '<select id="%1$s" name="%2$s" data-presets="%3$s"%4$s>', esc_attr( $id ), esc_attr( $name ), esc_attr( (string) wp_json_encode( $data ) ), $disabled ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
				printf( '<option value="">%s</option>', esc_html__( 'Other SMTP server', 'smtpcore-mailer' ) );
				foreach ( $presets as $key => $preset ) {
					printf( '<option value="%1$s"%2$s>%3$s</option>', esc_attr( $key ), selected( $value, $key, false ), esc_html( (string) $preset['label'] ) );
				}
				echo '</select>';
				$hint = isset( $presets[ $value ] ) ? (string) ( $presets[ $value ]['usernameHint'] ?? '' ) : '';
				echo '<p class="description" id="smtpcore-preset-hint" data-label="' . esc_attr__( 'User name:', 'smtpcore-mailer' ) . '"' . ( '' === $hint ? ' hidden' : '' ) . '>' . esc_html( '' === $hint ? '' : __( 'User name:', 'smtpcore-mailer' ) . ' ' . $hint ) . '</p>';
				echo '<p class="description">' . esc_html__( 'Choosing a provider fills in host, port and encryption.', 'smtpcore-mailer' ) . '</p>';
				break;
			case 'select':
				printf( '<select id="%1$s" name="%2$s"%3$s>', esc_attr( $id ), esc_attr( $name ), $disabled ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
				foreach ( (array) $args['options'] as $key => $label ) {
					printf( '<option value="%1$s"%2$s>%3$s</option>', esc_attr( (string) $key ), selected( (string) $value, (string) $key, false ), esc_html( $label ) );
				}
				echo '</select>';
				break;
			case 'checkbox':
				printf(
					'<label for="%1$s"><input type="checkbox" id="%1$s" name="%2$s" value="1"%3$s%4$s> %5$s</label>',
					esc_attr( $id ),
					esc_attr( $name ),
					checked( (bool) $value, true, false ),
					$disabled, // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
					esc_html( (string) ( $args['label'] ?? '' ) )
				);
				break;
			case 'password':
				$source = Settings::password_source();
				if ( $locked ) {
					$placeholder = __( 'set in wp-config.php', 'smtpcore-mailer' );
				} elseif ( 'stored' === $source ) {
					$placeholder = __( 'saved (leave empty to keep it)', 'smtpcore-mailer' );
				} else {
					$placeholder = '';
				}
				// The stored password is never printed back: the field always starts empty.
				printf(
					'<input type="password" id="%1$s" name="%2$s" value="" class="regular-text" autocomplete="new-password" placeholder="%3$s"%4$s>',
					esc_attr( $id ),
					esc_attr( $name ),
					esc_attr( $placeholder ),
					$disabled // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
				);
				if ( ! $locked && in_array( $source, array( 'stored', 'undecryptable' ), true ) ) {
					printf(
						'<p><label for="smtpcore-password-clear"><input type="checkbox" id="smtpcore-password-clear" name="%1$s" value="1"> %2$s</label></p>',
						esc_attr( Settings::OPTION . '[password_clear]' ),
						esc_html__( 'Delete the saved password', 'smtpcore-mailer' )
					);
				}
				if ( ! $locked ) {
					echo '<p class="description">' . esc_html__( 'Stored encrypted; never shown again. Or define SMTPCORE_PASS in wp-config.php.', 'smtpcore-mailer' ) . '</p>';
				}
				break;
			default:
				printf(
					'<input type="%1$s" id="%2$s" name="%3$s" value="%4$s" class="%5$s"%6$s%7$s%8$s%9$s>',
					esc_attr( $type ),
					esc_attr( $id ),
					esc_attr( $name ),
					esc_attr( 'port' === $field && 0 === (int) $value ? '' : (string) $value ),
					esc_attr( (string) ( $args['input_class'] ?? ( 'number' === $type ? 'small-text' : 'regular-text' ) ) ),
					isset( $args['placeholder'] ) ? ' placeholder="' . esc_attr( (string) $args['placeholder'] ) . '"' : '',
					isset( $args['min'] ) ? ' min="' . esc_attr( (string) $args['min'] ) . '" max="' . esc_attr( (string) $args['max'] ) . '"' : '',
					isset( $args['autocomplete'] ) ? ' autocomplete="' . esc_attr( (string) $args['autocomplete'] ) . '"' : '',
					$disabled // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
				);
				if ( isset( $args['suffix'] ) ) {
					echo ' ' . esc_html( (string) $args['suffix'] );
				}
		}
		if ( $locked ) {
			/* translators: %s: constant name */
			echo '<p class="description smtpcore-locked">' . esc_html( sprintf( __( 'Set by %s in wp-config.php.', 'smtpcore-mailer' ), $constant ) ) . '</p>';
		} elseif ( isset( $args['description'] ) ) {
			echo '<p class="description">' . esc_html( (string) $args['description'] ) . '</p>';
		}
	}
}
