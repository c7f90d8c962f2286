--TEST--
smtpcore live: wrong password (535 5.7.8 + hint), certificate checks, clear-text AUTH refused unless allowed
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_mta_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

function attempt(array $options, ?SmtpCore\Message $m = null): ?SmtpCore\Exception {
    try {
        $r = (new SmtpCore\Client($options))->send($m ?? sc_message());
        echo 'sent: ok=', var_export($r->ok(), true), "\n";
    } catch (SmtpCore\Exception $e) {
        echo sc_describe($e);
        return $e;
    }
    return null;
}

echo "-- wrong password\n";
$e = attempt(sc_mta_options('submission', ['username' => 'alice@example.test', 'password' => 'wrong horse battery']));
var_dump($e instanceof SmtpCore\AuthException, $e->getSmtpCode(), $e->getEnhancedCode(), $e->getCode());
var_dump(str_contains($e->getHint(), 'user name or password'));
var_dump(str_contains($e->getServerMessage(), 'authentication failed'));
$t = implode("\n", $e->getTranscript());
var_dump(str_contains($t, 'C: AUTH '), str_contains($t, '<redacted>'), str_contains($t, 'wrong horse'),
         str_contains($t, base64_encode("\0alice@example.test\0wrong horse battery")));

echo "-- the certificate names another host\n";
$e = attempt(sc_mta_options('wrongcert', ['username' => 'alice@example.test', 'password' => sc_alice_password()]));
var_dump(str_contains(implode("\n", $e->getTranscript()), 'AUTH'));

echo "-- a CA we do not trust\n";
attempt(sc_mta_options('smtps', ['caFile' => sc_mta()['server_cert']]));

echo "-- without TLS, AUTH needs allowPlaintextAuth\n";
$plain = sc_mta_options('plain', ['username' => 'alice@example.test', 'password' => sc_alice_password()]);
attempt($plain);
attempt($plain + ['allowPlaintextAuth' => true]);

echo "-- unauthenticated submission may not send\n";
attempt(sc_mta_options('submission'));
?>
--EXPECTF--
-- wrong password
AuthException category=auth code=535 enhanced='5.7.8' hint=yes
bool(true)
int(535)
string(5) "5.7.8"
int(535)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(false)
-- the certificate names another host
TlsException category=tls code=0 enhanced=NULL hint=yes
bool(false)
-- a CA we do not trust
TlsException category=tls code=0 enhanced=NULL hint=yes
-- without TLS, AUTH needs allowPlaintextAuth
TlsException category=tls code=0 enhanced=NULL hint=yes
sent: ok=true
-- unauthenticated submission may not send
%sException category=%s code=554 enhanced='5.7.1' hint=yes
