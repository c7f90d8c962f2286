<?php
/**
 * Encryption of the stored SMTP password.
 *
 * The key never lives in the database: it is SMTPCORE_KEY from wp-config.php,
 * or derived from the AUTH_KEY and SECURE_AUTH_KEY salts defined there. (Not
 * wp_salt(): when the salts are missing it generates them and stores them in
 * the options table, next to the ciphertext.)
 *
 * Format: "scm1:" . base64( cipher id (1 byte) . nonce . tag . ciphertext ).
 * Cipher 1 is AES-256-GCM (OpenSSL), cipher 2 XChaCha20-Poly1305 (sodium),
 * used only where PHP has no OpenSSL extension.
 *
 * @package SmtpCoreMailer
 */

namespace SmtpCoreMailer;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Authenticated encryption of short secrets under a key from wp-config.php.
 */
final class Crypto {

	const PREFIX = 'scm1:';

	const AAD = 'smtpcore-mailer/password';

	const CIPHER_AES_GCM = 1;

	const CIPHER_XCHACHA = 2;

	/**
	 * Where the key comes from: 'SMTPCORE_KEY', 'salts' or null (none usable).
	 */
	public static function key_source(): ?string {
		if ( defined( 'SMTPCORE_KEY' ) && strlen( (string) SMTPCORE_KEY ) >= 16 ) {
			return 'SMTPCORE_KEY';
		}
		if ( self::usable_salt( 'AUTH_KEY' ) && self::usable_salt( 'SECURE_AUTH_KEY' ) ) {
			return 'salts';
		}
		return null;
	}

	/**
	 * True when $plaintext can be encrypted here (a key and a cipher are available).
	 */
	public static function available(): bool {
		return null !== self::key_source() && null !== self::cipher();
	}

	/**
	 * Encrypts $plaintext; null when no key or cipher is available.
	 *
	 * @param string $plaintext The secret.
	 */
	public static function encrypt( #[\SensitiveParameter] string $plaintext ): ?string {
		$key    = self::key();
		$cipher = self::cipher();
		if ( null === $key || null === $cipher ) {
			return null;
		}
		if ( self::CIPHER_AES_GCM === $cipher ) {
			$nonce = random_bytes( 12 );
			$tag   = '';
			$ct    = openssl_encrypt( $plaintext, 'aes-256-gcm', $key, OPENSSL_RAW_DATA, $nonce, $tag, self::AAD, 16 );
			if ( false === $ct ) {
				return null;
			}
			return self::PREFIX . base64_encode( chr( $cipher ) . $nonce . $tag . $ct );
		}
		$nonce = random_bytes( SODIUM_CRYPTO_AEAD_XCHACHA20POLY1305_IETF_NPUBBYTES );
		$ct    = sodium_crypto_aead_xchacha20poly1305_ietf_encrypt( $plaintext, self::AAD, $nonce, $key );
		return self::PREFIX . base64_encode( chr( $cipher ) . $nonce . $ct );
	}

	/**
	 * Decrypts a value from encrypt(); null when it is malformed, was made with
	 * another key, or was tampered with.
	 *
	 * @param string $stored The stored value.
	 */
	public static function decrypt( string $stored ): ?string {
		$key = self::key();
		if ( null === $key || 0 !== strpos( $stored, self::PREFIX ) ) {
			return null;
		}
		$raw = base64_decode( substr( $stored, strlen( self::PREFIX ) ), true );
		if ( false === $raw || strlen( $raw ) < 2 ) {
			return null;
		}
		$cipher = ord( $raw[0] );
		$raw    = substr( $raw, 1 );
		if ( self::CIPHER_AES_GCM === $cipher && function_exists( 'openssl_decrypt' ) ) {
			if ( strlen( $raw ) < 28 ) {
				return null;
			}
			$plain = openssl_decrypt( substr( $raw, 28 ), 'aes-256-gcm', $key, OPENSSL_RAW_DATA, substr( $raw, 0, 12 ), substr( $raw, 12, 16 ), self::AAD );
			return false === $plain ? null : $plain;
		}
		if ( self::CIPHER_XCHACHA === $cipher && function_exists( 'sodium_crypto_aead_xchacha20poly1305_ietf_decrypt' ) ) {
			$n = SODIUM_CRYPTO_AEAD_XCHACHA20POLY1305_IETF_NPUBBYTES;
			if ( strlen( $raw ) < $n + 16 ) {
				return null;
			}
			$plain = sodium_crypto_aead_xchacha20poly1305_ietf_decrypt( substr( $raw, $n ), self::AAD, substr( $raw, 0, $n ), $key );
			return false === $plain ? null : $plain;
		}
		return null;
	}

	/**
	 * The 32-byte key, derived with HKDF so the salts themselves are never used as a key.
	 */
	private static function key(): ?string {
		$source = self::key_source();
		if ( 'SMTPCORE_KEY' === $source ) {
			$material = (string) SMTPCORE_KEY;
		} elseif ( 'salts' === $source ) {
			$material = AUTH_KEY . "\0" . SECURE_AUTH_KEY;
		} else {
			return null;
		}
		return hash_hkdf( 'sha256', $material, 32, 'smtpcore-mailer password key v1' );
	}

	private static function cipher(): ?int {
		if ( function_exists( 'openssl_encrypt' ) && in_array( 'aes-256-gcm', openssl_get_cipher_methods(), true ) ) {
			return self::CIPHER_AES_GCM;
		}
		if ( function_exists( 'sodium_crypto_aead_xchacha20poly1305_ietf_encrypt' ) ) {
			return self::CIPHER_XCHACHA;
		}
		return null;
	}

	private static function usable_salt( string $name ): bool {
		if ( ! defined( $name ) ) {
			return false;
		}
		$value = (string) constant( $name );
		return strlen( $value ) >= 16 && 'put your unique phrase here' !== $value;
	}
}
