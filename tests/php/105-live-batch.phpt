--TEST--
smtpcore live: sendMany() pipelines a batch on submission (each delivered once, byte for byte); an unknown recipient fails alone; pipelining off sends one at a time
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_mta_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

/** Transcript indexes of the MAIL commands and of the replies to each message's data. */
function order(array $lines): array {
    return [array_keys(preg_grep('/^C: MAIL FROM:/', $lines)), array_keys(preg_grep('/^S: 250 2\.0\.0 .*queued as/', $lines))];
}

function batch(string $tag, int $n, array $to = []): array {
    $msgs = [];
    for ($i = 0; $i < $n; $i++) {
        $msgs["m$i"] = (new SmtpCore\Message())->from('Alice <alice@example.test>')->to($to[$i] ?? 'dave@example.test')
            ->subject("$tag #$i")->text("Message $i of $tag.\n")->seed(crc32($tag) + $i);
    }
    return $msgs;
}

/** The delivered messages of dave's containing $tag (trace headers stripped), once $want have come. */
function delivered(string $tag, int $want): array {
    $scan = function () use ($tag): array {
        $found = [];
        foreach (glob(sc_mta()['maildir'] . '/dave/{new,cur}/*', GLOB_BRACE) as $f) {
            $raw = file_get_contents($f);
            if (str_contains($raw, $tag)) {
                $found[] = sc_strip_trace($raw);
            }
        }
        return $found;
    };
    $deadline = microtime(true) + 20;
    while (count($scan()) < $want && microtime(true) < $deadline) {
        usleep(100000);
    }
    usleep(300000); // a duplicate would have come by now
    return $scan();
}

$auth = ['username' => 'alice@example.test', 'password' => sc_alice_password()];

// Ten messages over one connection, envelopes pipelined.
$tag = sc_unique('live-batch');
$msgs = batch($tag, 10);
$client = new SmtpCore\Client(sc_mta_options('submission', $auth));
$results = $client->sendMany($msgs);
echo implode(' ', array_keys($results)), "\n";
echo count(array_filter($results, fn($r) => $r instanceof SmtpCore\Result && $r->ok() && $r->code() === 250)), " ok\n";
[$mails, $finals] = order($client->transcript());
echo count(preg_grep('/^\*  connecting/', $client->transcript())), ' connection, ', count($mails), ' envelopes, pipelined: ',
     var_export($mails[1] < $finals[0], true), "\n";
$got = delivered($tag, 10);
sort($got);
$sent = array_map(fn($m) => $m->toString(true), array_values($msgs));
sort($sent);
var_dump(count($got), $got === $sent);

// An unknown recipient in the middle: that message's exception, the others sent.
$client = new SmtpCore\Client(sc_mta_options('mx'));
$tag2 = sc_unique('live-batch-middle');
foreach ($client->sendMany(batch($tag2, 3, [1 => 'nosuchuser@example.test'])) as $key => $r) {
    echo "$key: ", $r instanceof SmtpCore\Result ? 'ok ' . var_export($r->ok(), true) . "\n" : sc_describe($r);
}
var_dump(count(delivered($tag2, 2)));

// Pipelining switched off: each message's reply comes before the next envelope.
$client = new SmtpCore\Client(sc_mta_options('submission', $auth + ['pipelining' => false]));
$results = $client->sendMany(batch(sc_unique('live-batch-serial'), 3));
[$mails, $finals] = order($client->transcript());
var_dump(count($results), count($finals), $finals[0] < $mails[1] && $finals[1] < $mails[2]);
?>
--EXPECT--
m0 m1 m2 m3 m4 m5 m6 m7 m8 m9
10 ok
1 connection, 10 envelopes, pipelined: true
int(10)
bool(true)
m0: ok true
m1: RecipientsRefusedException category=recipient code=550 enhanced='5.1.1' hint=yes
m2: ok true
int(2)
int(3)
int(3)
bool(true)
