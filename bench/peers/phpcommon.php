<?php
// What the PHP bench clients share: options, results, message texts.
// Same flags as bench/c/sc_bench: SCENARIO --host H --port P --count N --max-seconds T ...
// plus --nodelay (TCP_NODELAY through the stream context's socket option).
// Prints one JSON line last: count, seconds, t0/t1 (hrtime = CLOCK_MONOTONIC),
// rss_mb (VmHWM, peak resident set of the whole process), rss_start_mb.

const BENCH_FROM = 'sender@example.com';
const BENCH_TO = 'rcpt@example.org';
const BENCH_EHLO = 'client.bench.example';
const BENCH_TEXT = "Hello,\n\nthis is the plain-text part of a benchmark message. It is long enough to look like a real\n"
    . "notification: a few sentences, a link to https://example.com/account and a signature.\n\n"
    . "Regards,\nThe benchmark\n";
const BENCH_HTML = '<!DOCTYPE html><html><body><p>Hello,</p><p>this is the <b>HTML</b> part of a benchmark message. '
    . 'It is long enough to look like a real notification: a few sentences, a '
    . '<a href="https://example.com/account">link</a> and a signature.</p><p>Regards,<br>The benchmark</p></body></html>'
    . "\n";

function bench_options(array $argv): array
{
    $o = ['scenario' => $argv[1] ?? '', 'host' => '127.0.0.1', 'port' => 25, 'count' => 1, 'max-seconds' => 1e9,
          'rcpts' => 1, 'threads' => 1, 'connections' => 1, 'message' => null, 'attach' => null,
          'ca-file' => null, 'user' => null, 'password' => null, 'chunking' => -1, 'nodelay' => false,
          'batch' => 0];
    for ($i = 2; $i < count($argv); $i++) {
        $k = substr($argv[$i], 2);
        if ($k === 'nodelay') {
            $o['nodelay'] = true;
            continue;
        }
        if (!array_key_exists($k, $o)) {
            fwrite(STDERR, "unknown option {$argv[$i]}\n");
            exit(2);
        }
        $o[$k] = $argv[++$i];
    }
    foreach (['port', 'count', 'rcpts', 'threads', 'connections', 'chunking'] as $k) {
        $o[$k] = (int)$o[$k];
    }
    $o['max-seconds'] = (float)$o['max-seconds'];
    return $o;
}

function bench_now(): float
{
    return hrtime(true) / 1e9;
}

function bench_status_mb(string $field): float
{
    foreach (file('/proc/self/status') as $line) {
        if (strncmp($line, $field . ':', strlen($field) + 1) === 0) {
            return (int)preg_split('/\s+/', trim($line))[1] / 1024.0;
        }
    }
    return 0.0;
}

function bench_emit(int $count, float $t0, float $t1, float $rss0, array $extra = []): void
{
    echo json_encode(array_merge(['count' => $count, 'seconds' => $t1 - $t0, 't0' => $t0, 't1' => $t1,
        'rss_mb' => bench_status_mb('VmHWM'), 'rss_start_mb' => $rss0], $extra)), "\n";
}

function bench_rcpts(int $n): array
{
    $r = [];
    for ($i = 0; $i < $n; $i++) {
        $r[] = "rcpt$i@example.org";
    }
    return $r;
}

// Runs $one() until count messages are done or max-seconds have passed.
function bench_loop(array $o, callable $one, float $rss0, array $extra = []): void
{
    $done = 0;
    $t0 = $t1 = bench_now();
    while ($done < $o['count'] && $t1 - $t0 < $o['max-seconds']) {
        $one();
        $done++;
        $t1 = bench_now();
    }
    bench_emit($done, $t0, $t1, $rss0, $extra);
}
