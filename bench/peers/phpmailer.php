<?php
// Peer: PHPMailer (Debian's libphp-phpmailer), used as PHP code uses it: one PHPMailer
// object with SMTPKeepAlive for many messages over one connection (it sends RSET after
// each), send() composing each message. Scenarios as bench/c/sc_bench: send (S1, S6),
// rcpts (S2: 500 BCC recipients), compose (S3: preSend() + getSentMIMEMessage()), big (S4),
// web (S7: a new PHPMailer, STARTTLS and AUTH per message). --nodelay sets TCP_NODELAY
// through SMTPOptions (the stream context's socket option); PHP leaves Nagle on by default.
require '/usr/share/php/libphp-phpmailer/autoload.php';
require __DIR__ . '/phpcommon.php';

use PHPMailer\PHPMailer\PHPMailer;

function mailer(array $o): PHPMailer
{
    $m = new PHPMailer(true);
    $m->isSMTP();
    $m->Host = $o['host'];
    $m->Port = $o['port'];
    $m->Hostname = BENCH_EHLO;
    $m->Helo = BENCH_EHLO;
    $m->SMTPAutoTLS = false;
    $m->SMTPSecure = '';
    $m->SMTPAuth = false;
    $m->CharSet = PHPMailer::CHARSET_UTF8;
    if ($o['nodelay']) {
        $m->SMTPOptions = ['socket' => ['tcp_nodelay' => true]];
    }
    return $m;
}

function small(PHPMailer $m): void
{
    $m->setFrom(BENCH_FROM);
    $m->addAddress(BENCH_TO);
    $m->Subject = 'Benchmark message';
    $m->Body = BENCH_TEXT;
}

$o = bench_options($argv);
switch ($o['scenario']) {
case 'send':
    $m = mailer($o);
    $m->SMTPKeepAlive = true;
    small($m);
    $rss0 = bench_status_mb('VmRSS');
    $m->smtpConnect();
    bench_loop($o, function () use ($m) { $m->send(); }, $rss0);
    $m->smtpClose();
    break;
case 'rcpts':
    $m = mailer($o);
    $m->SMTPKeepAlive = true;
    $m->setFrom(BENCH_FROM);
    foreach (bench_rcpts($o['rcpts']) as $r) {
        $m->addBCC($r);
    }
    $m->Subject = 'Benchmark message';
    $m->Body = BENCH_TEXT;
    $rss0 = bench_status_mb('VmRSS');
    $m->smtpConnect();
    $t0 = bench_now();
    $m->send();
    $t1 = bench_now();
    $m->smtpClose();
    bench_emit(1, $t0, $t1, $rss0);
    break;
case 'compose':
    $att = file_get_contents($o['attach']);
    $size = 0;
    $rss0 = bench_status_mb('VmRSS');
    bench_loop($o, function () use ($o, $att, &$size) {
        $m = new PHPMailer(true);
        $m->CharSet = PHPMailer::CHARSET_UTF8;
        $m->Hostname = BENCH_EHLO;
        $m->setFrom('sender@example.com', 'Sender Name');
        $m->addAddress('rcpt@example.org', 'Recipient Name');
        $m->Subject = 'Your monthly report';
        $m->isHTML(true);
        $m->Body = BENCH_HTML;
        $m->AltBody = BENCH_TEXT;
        $m->addStringAttachment($att, 'report.pdf', PHPMailer::ENCODING_BASE64, 'application/pdf');
        $m->preSend();
        $size = strlen($m->getSentMIMEMessage());
    }, $rss0);
    break;
case 'big':
    $m = mailer($o);
    $rss0 = bench_status_mb('VmRSS');
    $t0 = bench_now();
    small($m);
    $m->addAttachment($o['attach'], 'big.bin', PHPMailer::ENCODING_BASE64, 'application/octet-stream');
    $m->send();
    $t1 = bench_now();
    bench_emit(1, $t0, $t1, $rss0);
    break;
case 'web':
    $rss0 = bench_status_mb('VmRSS');
    bench_loop($o, function () use ($o) {
        $m = mailer($o);
        $m->SMTPSecure = PHPMailer::ENCRYPTION_STARTTLS;
        $m->SMTPAuth = true;
        $m->Username = $o['user'];
        $m->Password = $o['password'];
        $m->SMTPOptions['ssl'] = ['cafile' => $o['ca-file'], 'verify_peer' => true, 'verify_peer_name' => true];
        small($m);
        $m->send();
    }, $rss0);
    break;
default:
    fwrite(STDERR, "phpmailer.php: no scenario {$o['scenario']}\n");
    exit(2);
}
