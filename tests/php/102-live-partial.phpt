--TEST--
smtpcore live: partial recipient failure on the MX port (bob accepted, nosuchuser refused); all refused throws
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_mta_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

$tag = sc_unique('live-partial');
$client = new SmtpCore\Client(sc_mta_options('mx'));
$m = sc_message(['bob@example.test', 'nosuchuser@example.test'], "Partial $tag");
$r = $client->send($m);
var_dump($r->ok(), $r->code(), $r->accepted());
foreach ($r->refused() as $addr => $why) {
    echo "$addr: {$why['code']} {$why['enhanced']} ", str_contains($why['message'], 'User unknown') ? 'User unknown' : $why['message'], "\n";
}
var_dump(str_contains(sc_wait_delivery('bob', $tag), "Subject: Partial $tag"));

// Every recipient refused: nothing was sent, and the exception carries the per-recipient result.
try {
    $client->send(sc_message(['nosuchuser@example.test', 'nobody@example.test']));
} catch (SmtpCore\RecipientsRefusedException $e) {
    echo sc_describe($e);
    var_dump($e->getResult()->ok(), $e->getResult()->accepted(), array_keys($e->getResult()->refused()));
    var_dump(str_contains($e->getServerMessage(), 'User unknown'));
}
// The session survived the refusal: the same connection sends again.
var_dump($client->send(sc_message('carol@example.test'))->ok());
var_dump(preg_grep('/^\*  connecting/', $client->transcript()));

// Relaying is refused on the MX port.
try {
    $client->send(sc_message('someone@elsewhere.test'));
} catch (SmtpCore\Exception $e) {
    echo sc_describe($e);
}
?>
--EXPECT--
bool(false)
int(250)
array(1) {
  [0]=>
  string(16) "bob@example.test"
}
nosuchuser@example.test: 550 5.1.1 User unknown
bool(true)
RecipientsRefusedException category=recipient code=550 enhanced='5.1.1' hint=yes
bool(false)
array(0) {
}
array(2) {
  [0]=>
  string(23) "nosuchuser@example.test"
  [1]=>
  string(19) "nobody@example.test"
}
bool(true)
bool(true)
array(0) {
}
RelayException category=relay code=554 enhanced='5.7.1' hint=yes
