--TEST--
smtpcore: connection-level failures from a misbehaving server (timeout, protocol, TLS, 421, AUTH)
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_fault_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

function run(string $name, array $script, array $options = []): ?SmtpCore\Exception {
    $fs = sc_fault_start($script);
    $client = new SmtpCore\Client(sc_fault_options($fs, $options));
    $e = null;
    $t = microtime(true);
    try {
        $client->send(sc_message());
        echo "$name: sent?\n";
    } catch (SmtpCore\Exception $e) {
        echo "$name: ", sc_describe($e);
    }
    $elapsed = microtime(true) - $t;
    unset($client);
    // The silent server would sleep on: no need to wait for it.
    echo '  server: ', sc_fault_finish($fs, $name === 'timeout' ? 0.2 : 5), "\n";
    if ($name === 'timeout') {
        var_dump($elapsed < 2.0);
    }
    return $e;
}

// No greeting within the reply timeout.
run('timeout', [['sleep' => 3]], ['timeout' => 0.3]);
// Not SMTP at all.
run('protocol', [['send' => "hello there\r\n"], ['wait_close' => 2]]);
// STARTTLS required (the default) but not offered: nothing else is sent.
$e = run('tls', array_merge(sc_greet_ehlo(['PIPELINING', 'AUTH PLAIN']), [['wait_close' => 2]]),
         ['security' => 'starttls', 'username' => 'alice', 'password' => 'pw']);
$lines = $e->getTranscript();
echo '  last: ', end($lines), "\n";
// The server shuts down.
$e = run('421', [['send' => "421 4.3.2 Service shutting down\r\n"], ['wait_close' => 2]]);
var_dump($e->getServerMessage());
// Wrong password: code, enhanced code, hint; the AUTH payload never shows.
$e = run('auth', array_merge(sc_greet_ehlo(['AUTH PLAIN LOGIN', 'ENHANCEDSTATUSCODES']),
         [['expect' => 'AUTH PLAIN'], ['send' => "535 5.7.8 Error: authentication failed: bad\r\n"], ['wait_close' => 2]]),
         ['username' => 'alice@example.test', 'password' => 'pw-secret-123', 'allowPlaintextAuth' => true]);
var_dump($e->getCode(), $e->getEnhancedCode(), strlen($e->getHint()) > 20);
$t = implode("\n", $e->getTranscript());
var_dump(str_contains($t, 'C: AUTH PLAIN <redacted>'), str_contains($t, 'pw-secret'),
         str_contains($t, base64_encode("\0alice@example.test\0pw-secret-123")));
// AUTH in clear text is refused unless allowed.
run('plain-auth', array_merge(sc_greet_ehlo(['AUTH PLAIN']), [['wait_close' => 2]]),
    ['username' => 'alice', 'password' => 'pw']);
?>
--EXPECTF--
timeout: TimeoutException category=timeout code=0 enhanced=NULL hint=yes
  server: DONE %s
bool(true)
protocol: ProtocolException category=protocol code=0 enhanced=NULL hint=yes
  server: DONE ok
tls: TlsException category=tls code=0 enhanced=NULL hint=yes
  server: DONE ok
  last: *  error: %sSTARTTLS%s
421: ConnectException category=connect code=421 enhanced='4.3.2' hint=yes
  server: DONE ok
string(%d) "%SService shutting down"
auth: AuthException category=auth code=535 enhanced='5.7.8' hint=yes
  server: DONE ok
int(535)
string(5) "5.7.8"
bool(true)
bool(true)
bool(false)
bool(false)
plain-auth: TlsException category=tls code=0 enhanced=NULL hint=yes
  server: DONE ok
