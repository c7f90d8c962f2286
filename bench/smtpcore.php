<?php
// smtpcore through its PHP extension (bindings/php), for the suite. bench/run.sh loads
// the extension it built (php -d extension=...); without it the suite shows "not built
// yet". Written against the API as it is being defined (issue: PHP extension):
//   new SmtpCore\Client(['host' => ..., 'port' => ..., 'security' => 'none' | 'starttls', 'ehloName' => ...])
//   ->send((new SmtpCore\Message)->from(..)->to(..)->subject(..)->text(..))
//   ->sendRaw($bytes, $from, $to)
// Scenarios and flags as bench/c/sc_bench; S1 uses send() with a Message each time, as
// PHPMailer's and Symfony's rows compose each time (sendRaw is the "raw" variant: --raw).
require __DIR__ . '/peers/phpcommon.php';

use SmtpCore\Client;
use SmtpCore\Message;

function client(array $o, array $extra = []): Client
{
    $cfg = ['host' => $o['host'], 'port' => $o['port'], 'security' => 'none', 'ehloName' => BENCH_EHLO];
    if ($o['chunking'] === 0) {
        $cfg['chunking'] = false;
    }
    return new Client(array_merge($cfg, $extra));
}

function small(): Message
{
    return (new Message())->from(BENCH_FROM)->to(BENCH_TO)->subject('Benchmark message')->text(BENCH_TEXT);
}

$raw = in_array('--raw', $argv, true);
$argv = array_values(array_filter($argv, fn ($a) => $a !== '--raw'));
$o = bench_options($argv);
switch ($o['scenario']) {
case 'send':
    $c = client($o);
    $bytes = $o['message'] ? file_get_contents($o['message']) : '';
    $rss0 = bench_status_mb('VmRSS');
    $c->send(small()); // connects: not timed
    if ((int)$o['batch'] > 0) {
        // A queue worker's way: a batch pipelined across messages (sendMany), composing each message.
        $n = (int)$o['batch'];
        $done = 0;
        $t0 = $t1 = bench_now();
        while ($done < $o['count'] && $t1 - $t0 < $o['max-seconds']) {
            $k = min($n, $o['count'] - $done);
            $msgs = [];
            for ($i = 0; $i < $k; $i++) {
                $msgs[] = small();
            }
            foreach ($c->sendMany($msgs) as $r) {
                if ($r instanceof \Throwable) {
                    throw $r;
                }
            }
            $done += $k;
            $t1 = bench_now();
        }
        bench_emit($done, $t0, $t1, $rss0);
        $c->close();
        break;
    }
    bench_loop($o, $raw ? function () use ($c, $bytes) { $c->sendRaw($bytes, BENCH_FROM, [BENCH_TO]); }
                        : function () use ($c) { $c->send(small()); }, $rss0);
    $c->close();
    break;
case 'rcpts':
    $c = client($o);
    $bytes = file_get_contents($o['message']);
    $rss0 = bench_status_mb('VmRSS');
    $c->send(small());
    $t0 = bench_now();
    $c->sendRaw($bytes, BENCH_FROM, bench_rcpts($o['rcpts']));
    $t1 = bench_now();
    $c->close();
    bench_emit(1, $t0, $t1, $rss0);
    break;
case 'compose':
    $att = file_get_contents($o['attach']);
    $size = 0;
    $rss0 = bench_status_mb('VmRSS');
    bench_loop($o, function () use ($att, &$size) {
        $m = (new Message())->from('Sender Name <sender@example.com>')->to('Recipient Name <rcpt@example.org>')
            ->subject('Your monthly report')->text(BENCH_TEXT)->html(BENCH_HTML)
            ->attachData($att, 'report.pdf', 'application/pdf');
        $size = strlen($m->toString());
    }, $rss0);
    break;
case 'big':
    $c = client($o);
    $rss0 = bench_status_mb('VmRSS');
    $c->send(small());
    $t0 = bench_now();
    $c->send(small()->attach($o['attach'], 'big.bin', 'application/octet-stream'));
    $t1 = bench_now();
    $c->close();
    bench_emit(1, $t0, $t1, $rss0);
    break;
case 'web':
    $bytes = file_get_contents($o['message']);
    $rss0 = bench_status_mb('VmRSS');
    bench_loop($o, function () use ($o, $bytes) {
        $c = client($o, ['security' => 'starttls', 'username' => $o['user'], 'password' => $o['password'],
                         'caFile' => $o['ca-file']]);
        $c->sendRaw($bytes, BENCH_FROM, [BENCH_TO]);
        $c->close();
    }, $rss0);
    break;
default:
    fwrite(STDERR, "smtpcore.php: no scenario {$o['scenario']}\n");
    exit(2);
}
