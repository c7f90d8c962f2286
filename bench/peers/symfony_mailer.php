<?php
// Peer: Symfony Mailer (Debian's php-symfony-mailer), used as PHP code uses it: an
// EsmtpTransport and Email objects. Scenarios as bench/c/sc_bench: send (S1, S6: one
// connection; the transport's restart every 100 messages is lifted so the scenario stays
// "one connection"), rcpts (S2: an Envelope of 500 recipients), compose (S3: Email::toString()),
// big (S4), web (S7: a new transport per message, STARTTLS (automatic) and AUTH).
// --nodelay sets TCP_NODELAY through the socket stream's context options.
require '/usr/share/php/Symfony/Component/Mailer/autoload.php';
require __DIR__ . '/phpcommon.php';

use Symfony\Component\Mailer\Envelope;
use Symfony\Component\Mailer\Transport\Smtp\EsmtpTransport;
use Symfony\Component\Mime\Address;
use Symfony\Component\Mime\Email;

function transport(array $o, array $ssl = []): EsmtpTransport
{
    $t = new EsmtpTransport($o['host'], $o['port'], false);
    $t->setLocalDomain(BENCH_EHLO);
    $t->setRestartThreshold(PHP_INT_MAX);
    $opts = [];
    if ($o['nodelay']) {
        $opts['socket'] = ['tcp_nodelay' => true];
    }
    if ($ssl) {
        $opts['ssl'] = $ssl;
    }
    if ($opts) {
        $t->getStream()->setStreamOptions($opts);
    }
    return $t;
}

function small(): Email
{
    return (new Email())->from(BENCH_FROM)->to(BENCH_TO)->subject('Benchmark message')->text(BENCH_TEXT);
}

$o = bench_options($argv);
switch ($o['scenario']) {
case 'send':
    $t = transport($o);
    $email = small();
    $rss0 = bench_status_mb('VmRSS');
    $t->send($email); // connects (start() is private): not timed, as the others' connect
    bench_loop($o, function () use ($t, $email) { $t->send($email); }, $rss0);
    unset($t); // the destructor sends QUIT (stop() is private)
    break;
case 'rcpts':
    $t = transport($o);
    $email = small();
    $env = new Envelope(new Address(BENCH_FROM), array_map(fn ($r) => new Address($r), bench_rcpts($o['rcpts'])));
    $rss0 = bench_status_mb('VmRSS');
    $t->send($email); // connects
    $t0 = bench_now();
    $t->send($email, $env);
    $t1 = bench_now();
    unset($t); // the destructor sends QUIT (stop() is private)
    bench_emit(1, $t0, $t1, $rss0);
    break;
case 'compose':
    $att = file_get_contents($o['attach']);
    $size = 0;
    $rss0 = bench_status_mb('VmRSS');
    bench_loop($o, function () use ($att, &$size) {
        $email = (new Email())
            ->from(new Address('sender@example.com', 'Sender Name'))
            ->to(new Address('rcpt@example.org', 'Recipient Name'))
            ->subject('Your monthly report')
            ->text(BENCH_TEXT)
            ->html(BENCH_HTML)
            ->attach($att, 'report.pdf', 'application/pdf');
        $size = strlen($email->toString());
    }, $rss0);
    break;
case 'big':
    $t = transport($o);
    $rss0 = bench_status_mb('VmRSS');
    $t->send(small()); // connects
    $t0 = bench_now();
    $t->send(small()->attachFromPath($o['attach'], 'big.bin', 'application/octet-stream'));
    $t1 = bench_now();
    unset($t); // the destructor sends QUIT (stop() is private)
    bench_emit(1, $t0, $t1, $rss0);
    break;
case 'web':
    $rss0 = bench_status_mb('VmRSS');
    $email = small();
    bench_loop($o, function () use ($o, $email) {
        $t = transport($o, ['cafile' => $o['ca-file'], 'verify_peer' => true, 'verify_peer_name' => true]);
        $t->setUsername($o['user']);
        $t->setPassword($o['password']);
        $t->send($email);
        // leaving the closure destroys $t, which sends QUIT
    }, $rss0);
    break;
default:
    fwrite(STDERR, "symfony_mailer.php: no scenario {$o['scenario']}\n");
    exit(2);
}
