--TEST--
smtpcore live: STARTTLS + AUTH on submission; the delivered Maildir file is exactly what was sent
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_mta_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

$tag = sc_unique('live-send');
$m = (new SmtpCore\Message())
    ->from('Alice <alice@example.test>')
    ->to('Bob <bob@example.test>')
    ->cc('carol@example.test')
    ->subject("Test $tag")
    ->text("Hello Bob,\n.a line starting with a dot\n\nBye.\n")
    ->header('X-Test-Tag', $tag)
    ->seed(crc32($tag));
$client = new SmtpCore\Client(sc_mta_options('submission', ['username' => 'alice@example.test',
                                                           'password' => sc_alice_password()]));
$r = $client->send($m);
var_dump($r->ok(), $r->accepted(), $r->refused(), $r->code(), $r->enhancedCode());
var_dump((bool)preg_match('/queued as [0-9A-F]+/', $r->message()));

$t = implode("\n", $client->transcript());
var_dump(str_contains($t, 'C: STARTTLS'), str_contains($t, 'TLS established: TLSv1.3'),
         str_contains($t, 'C: AUTH '), str_contains($t, '<redacted>'), str_contains($t, sc_alice_password()));

foreach (['bob', 'carol'] as $who) {
    $raw = sc_wait_delivery($who, $tag);
    var_dump(sc_strip_trace($raw) === $m->toString());
    var_dump(str_contains($raw, "Delivered-To: $who@example.test"));
}
$client->close();
?>
--EXPECT--
bool(true)
array(2) {
  [0]=>
  string(16) "bob@example.test"
  [1]=>
  string(18) "carol@example.test"
}
array(0) {
}
int(250)
string(5) "2.0.0"
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
bool(true)
bool(true)
bool(true)
