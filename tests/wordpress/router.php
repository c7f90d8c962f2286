<?php
/**
 * Router for `php -S 127.0.0.1:PORT -t /usr/share/wordpress router.php`.
 *
 * /wp-content/ is served from WP_CONTENT_DIR (outside /usr/share/wordpress, as
 * Debian's package wants it); static files of the plugin (CSS, JS) only, never
 * PHP. Real files under the document root are served (PHP executed) by the
 * built-in server itself; everything else goes to index.php (pretty URLs).
 */

$smtpcore_uri     = rawurldecode( (string) parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) );
$smtpcore_content = (string) getenv( 'SMTPCORE_WP_CONTENT_DIR' );

if ( 0 === strpos( $smtpcore_uri, '/wp-content/' ) ) {
	$base = realpath( $smtpcore_content );
	$file = realpath( $smtpcore_content . substr( $smtpcore_uri, strlen( '/wp-content' ) ) );
	$ext  = strtolower( pathinfo( (string) $file, PATHINFO_EXTENSION ) );
	$mime = array(
		'css'   => 'text/css',
		'js'    => 'text/javascript',
		'png'   => 'image/png',
		'jpg'   => 'image/jpeg',
		'gif'   => 'image/gif',
		'svg'   => 'image/svg+xml',
		'woff2' => 'font/woff2',
		'txt'   => 'text/plain',
	);
	if ( false !== $base && false !== $file && 0 === strpos( $file, $base . '/' ) && is_file( $file ) && isset( $mime[ $ext ] ) ) {
		header( 'Content-Type: ' . $mime[ $ext ] );
		header( 'Content-Length: ' . filesize( $file ) );
		readfile( $file );
		return true;
	}
	http_response_code( 404 );
	echo 'Not found';
	return true;
}

if ( '/' !== $smtpcore_uri && file_exists( $_SERVER['DOCUMENT_ROOT'] . $smtpcore_uri ) ) {
	return false;
}

$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
