<?php
/**
 * Just enough MIME parsing to check delivered messages (PHP has no mailparse
 * here): headers (unfolded, RFC 2047 decoded), nested multiparts, and leaf
 * parts with their type, parameters (RFC 2231 too), disposition, file name,
 * Content-ID and decoded body.
 */

namespace SmtpCoreMailerTests;

final class Mime {

	/** @var array<string, string[]> lower-case name => raw values */
	public $headers = array();

	/** @var string lower-case type/subtype */
	public $type = 'text/plain';

	/** @var array<string, string> */
	public $params = array();

	/** @var string the body as transferred */
	public $raw_body = '';

	/** @var Mime[] for multiparts */
	public $children = array();

	public static function parse( string $raw ): Mime {
		$raw = str_replace( "\r\n", "\n", $raw );
		$m   = new self();
		$cut = strpos( $raw, "\n\n" );
		$head = false === $cut ? $raw : substr( $raw, 0, $cut );
		$m->raw_body = false === $cut ? '' : substr( $raw, $cut + 2 );
		$head = preg_replace( "/\n[ \t]+/", ' ', $head );
		foreach ( explode( "\n", $head ) as $line ) {
			if ( false === strpos( $line, ':' ) ) {
				continue;
			}
			list( $name, $value )                  = explode( ':', $line, 2 );
			$m->headers[ strtolower( trim( $name ) ) ][] = trim( $value );
		}
		$ct = $m->header( 'content-type' ) ?? 'text/plain';
		list( $m->type, $m->params ) = self::split_params( $ct );
		if ( 0 === strpos( $m->type, 'multipart/' ) && isset( $m->params['boundary'] ) ) {
			$boundary = '--' . $m->params['boundary'];
			$sections = explode( "\n" . $boundary, "\n" . $m->raw_body );
			array_shift( $sections ); // preamble
			foreach ( $sections as $section ) {
				if ( 0 === strpos( $section, '--' ) ) {
					break; // closing delimiter
				}
				$section        = preg_replace( '/^[ \t]*\n/', '', $section );
				$m->children[] = self::parse( $section );
			}
		}
		return $m;
	}

	/** The first value of a header, raw (undecoded), or null. */
	public function header( string $name ): ?string {
		return $this->headers[ strtolower( $name ) ][0] ?? null;
	}

	/** The first value of a header with RFC 2047 words decoded. */
	public function decoded( string $name ): ?string {
		$v = $this->header( $name );
		return null === $v ? null : (string) iconv_mime_decode( $v, ICONV_MIME_DECODE_CONTINUE_ON_ERROR, 'UTF-8' );
	}

	/** @return Mime[] the leaf parts, depth first. */
	public function leaves(): array {
		if ( ! $this->children ) {
			return array( $this );
		}
		$out = array();
		foreach ( $this->children as $child ) {
			$out = array_merge( $out, $child->leaves() );
		}
		return $out;
	}

	/** The first leaf part of a type (and not an attachment), or null. */
	public function part( string $type ): ?Mime {
		foreach ( $this->leaves() as $leaf ) {
			if ( $leaf->type === $type && 'attachment' !== $leaf->disposition() ) {
				return $leaf;
			}
		}
		return null;
	}

	/** The leaf with this file name, or null. */
	public function attachment( string $filename ): ?Mime {
		foreach ( $this->leaves() as $leaf ) {
			if ( $leaf->filename() === $filename ) {
				return $leaf;
			}
		}
		return null;
	}

	/** @return string[] file names of all leaves that have one. */
	public function filenames(): array {
		$names = array();
		foreach ( $this->leaves() as $leaf ) {
			if ( null !== $leaf->filename() ) {
				$names[] = $leaf->filename();
			}
		}
		return $names;
	}

	public function disposition(): ?string {
		$d = $this->header( 'content-disposition' );
		return null === $d ? null : self::split_params( $d )[0];
	}

	public function filename(): ?string {
		$d = $this->header( 'content-disposition' );
		if ( null !== $d ) {
			$params = self::split_params( $d )[1];
			if ( isset( $params['filename'] ) ) {
				return $params['filename'];
			}
		}
		return $this->params['name'] ?? null;
	}

	public function content_id(): ?string {
		$cid = $this->header( 'content-id' );
		return null === $cid ? null : trim( $cid, '<> ' );
	}

	/** The body with the transfer encoding undone, converted to UTF-8 for text. */
	public function body(): string {
		$cte  = strtolower( (string) $this->header( 'content-transfer-encoding' ) );
		$body = $this->raw_body;
		if ( 'base64' === $cte ) {
			$body = (string) base64_decode( preg_replace( '/\s+/', '', $body ) );
		} elseif ( 'quoted-printable' === $cte ) {
			$body = quoted_printable_decode( $body );
		}
		$charset = strtolower( $this->params['charset'] ?? '' );
		if ( 0 === strpos( $this->type, 'text/' ) && '' !== $charset && 'utf-8' !== $charset && 'us-ascii' !== $charset ) {
			$body = (string) mb_convert_encoding( $body, 'UTF-8', $charset );
		}
		return $body;
	}

	/**
	 * "type/sub; a=b; c*=utf-8''x" -> [type/sub, [a => b, c => x]], RFC 2047 and 2231 decoded.
	 *
	 * @return array{0: string, 1: array<string, string>}
	 */
	private static function split_params( string $value ): array {
		$parts  = self::split_semicolons( $value );
		$type   = strtolower( trim( array_shift( $parts ) ) );
		$params = array();
		$cont   = array();
		foreach ( $parts as $p ) {
			if ( false === strpos( $p, '=' ) ) {
				continue;
			}
			list( $k, $v ) = explode( '=', $p, 2 );
			$k             = strtolower( trim( $k ) );
			$v             = trim( $v );
			if ( strlen( $v ) >= 2 && '"' === $v[0] && '"' === substr( $v, -1 ) ) {
				$v = stripcslashes( substr( $v, 1, -1 ) );
			}
			if ( preg_match( '/^(.+?)\*(\d+)?(\*)?$/', $k, $m ) ) {
				$cont[ $m[1] ][ (int) ( $m[2] ?? 0 ) ] = array( $v, isset( $m[3] ) || ( ! isset( $m[2] ) || '' === $m[2] ) );
				continue;
			}
			$params[ $k ] = (string) iconv_mime_decode( $v, ICONV_MIME_DECODE_CONTINUE_ON_ERROR, 'UTF-8' );
		}
		foreach ( $cont as $k => $pieces ) {
			ksort( $pieces );
			$text    = '';
			$charset = 'utf-8';
			$first   = true;
			foreach ( $pieces as $piece ) {
				list( $v, $encoded ) = $piece;
				if ( $encoded ) {
					if ( $first && preg_match( "/^([^']*)'[^']*'(.*)$/s", $v, $m ) ) {
						$charset = '' !== $m[1] ? $m[1] : 'utf-8';
						$v       = $m[2];
					}
					$v = rawurldecode( $v );
				}
				$text .= $v;
				$first = false;
			}
			$params[ $k ] = 'utf-8' === strtolower( $charset ) ? $text : (string) mb_convert_encoding( $text, 'UTF-8', $charset );
		}
		return array( $type, $params );
	}

	/** @return string[] */
	private static function split_semicolons( string $value ): array {
		$out    = array();
		$cur    = '';
		$quoted = false;
		$len    = strlen( $value );
		for ( $i = 0; $i < $len; $i++ ) {
			$c = $value[ $i ];
			if ( '\\' === $c && $quoted && $i + 1 < $len ) {
				$cur .= $c . $value[ ++$i ];
				continue;
			}
			if ( '"' === $c ) {
				$quoted = ! $quoted;
			}
			if ( ';' === $c && ! $quoted ) {
				$out[] = $cur;
				$cur   = '';
				continue;
			}
			$cur .= $c;
		}
		$out[] = $cur;
		return $out;
	}
}
