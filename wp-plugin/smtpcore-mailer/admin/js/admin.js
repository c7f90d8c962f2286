/* Settings → SMTP: choosing a provider preset fills host, port and encryption. */
( function () {
	'use strict';
	var select = document.getElementById( 'smtpcore-preset' );
	if ( ! select || select.disabled ) {
		return;
	}
	var presets = {};
	try {
		presets = JSON.parse( select.getAttribute( 'data-presets' ) || '{}' );
	} catch ( e ) {
		return;
	}
	var host = document.getElementById( 'smtpcore-host' );
	var port = document.getElementById( 'smtpcore-port' );
	var security = document.getElementById( 'smtpcore-security' );
	var region = document.getElementById( 'smtpcore-region' );
	var hint = document.getElementById( 'smtpcore-preset-hint' );

	function set( field, value ) {
		if ( field && ! field.disabled ) {
			field.value = value;
		}
	}

	select.addEventListener( 'change', function () {
		var preset = presets[ select.value ];
		if ( ! preset ) {
			if ( hint ) {
				hint.hidden = true;
			}
			return;
		}
		var h = preset.host;
		if ( region && region.value && h.indexOf( '{region}' ) !== -1 ) {
			h = h.replace( '{region}', region.value );
		}
		set( host, h );
		set( port, String( preset.port ) );
		set( security, preset.security );
		if ( hint ) {
			hint.textContent = preset.hint ? hint.getAttribute( 'data-label' ) + ' ' + preset.hint : '';
			hint.hidden = ! preset.hint;
		}
	} );
} )();
