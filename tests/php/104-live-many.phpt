--TEST--
smtpcore live: many messages over one kept connection; clients come and go without growing memory; sendRaw
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_mta_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

$tag = sc_unique('live-many');
$options = sc_mta_options('submission', ['username' => 'alice@example.test', 'password' => sc_alice_password()]);
$client = new SmtpCore\Client($options);
$connects = 0;
$mem = [];
for ($i = 1; $i <= 25; $i++) {
    $r = $client->send(sc_message('erin@example.test', "Many $tag #$i"));
    $connects += count(preg_grep('/^\*  connecting/', $client->transcript()));
    if (!$r->ok()) {
        echo "message $i: not ok\n";
    }
    $mem[$i] = memory_get_usage();
}
echo "25 sent over $connects connection(s)\n";
var_dump($mem[25] - $mem[5] < 4096);

$raw = "From: alice@example.test\r\nTo: erin@example.test\r\nSubject: Raw $tag\r\n\r\nraw body\r\n";
var_dump($client->sendRaw($raw, 'alice@example.test', ['erin@example.test'])->ok());
$client->close();

// A worker that makes a client per job.
$before = memory_get_usage();
for ($i = 1; $i <= 5; $i++) {
    $c = new SmtpCore\Client($options);
    $c->send(sc_message('erin@example.test', "Worker $tag #$i"));
    unset($c);
}
var_dump(memory_get_usage() - $before < 4096);

$dir = sc_mta()['maildir'] . '/erin';
$deadline = microtime(true) + 20;
do {
    $n = 0;
    foreach (glob("$dir/{new,cur}/*", GLOB_BRACE) as $f) {
        $n += str_contains(file_get_contents($f), $tag) ? 1 : 0;
    }
} while ($n < 31 && microtime(true) < $deadline && usleep(100000) === null);
echo "$n delivered\n";
?>
--EXPECT--
25 sent over 1 connection(s)
bool(true)
bool(true)
bool(true)
31 delivered
