--TEST--
smtpcore live: implicit TLS (smtps) with attachments, inline image and HTML; DATA without CHUNKING (nochunk)
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_mta_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

/* The body of the MIME part whose headers contain $marker, base64-decoded. */
function part_body(string $msg, string $marker): string {
    $at = strpos($msg, $marker);
    $start = strpos($msg, "\r\n\r\n", $at) + 4;
    $end = strpos($msg, "\r\n--", $start);
    return base64_decode(substr($msg, $start, $end - $start), true);
}

$dir = sys_get_temp_dir() . '/smtpcore-live-' . getmypid();
mkdir($dir);
$bin = random_bytes(300000);
file_put_contents("$dir/report.bin", $bin);
$png = "\x89PNG\r\n\x1a\n" . random_bytes(2000);
file_put_contents("$dir/logo.png", $png);

foreach (['smtps', 'nochunk'] as $port) {
    $tag = sc_unique("live-att-$port");
    $m = (new SmtpCore\Message())
        ->from('Alice <alice@example.test>')
        ->to('dave@example.test')
        ->subject("Attachments $tag")
        ->text("See the attachments.\n")
        ->html("<p>Logo: <img src=\"cid:logo@example.test\"></p>\n")
        ->embed("$dir/logo.png", 'logo@example.test')
        ->attach("$dir/report.bin", 'Quartalsbericht März.bin', 'application/octet-stream')
        ->attachData("a,b\n1,2\n", 'small.csv', 'text/csv')
        ->seed(crc32($tag));
    $client = new SmtpCore\Client(sc_mta_options($port, ['username' => 'alice@example.test',
                                                         'password' => sc_alice_password()]));
    $r = $client->send($m);
    echo "$port: ok=", var_export($r->ok(), true), ' ', $r->code(), "\n";
    $t = implode("\n", $client->transcript());
    echo '  STARTTLS: ', str_contains($t, 'C: STARTTLS') ? 'yes' : 'no', ', TLS: ',
         str_contains($t, 'TLS established') ? 'yes' : 'no', ', BDAT: ', str_contains($t, 'C: BDAT') ? 'yes' : 'no', "\n";

    $sent = sc_strip_trace(sc_wait_delivery('dave', $tag));
    var_dump($sent === $m->toString());
    var_dump(part_body($sent, 'Quartalsbericht') === $bin, part_body($sent, 'Content-ID: <logo@example.test>') === $png,
             part_body($sent, 'small.csv') === "a,b\n1,2\n");
}
unlink("$dir/report.bin");
unlink("$dir/logo.png");
rmdir($dir);
?>
--EXPECT--
smtps: ok=true 250
  STARTTLS: no, TLS: yes, BDAT: yes
bool(true)
bool(true)
bool(true)
bool(true)
nochunk: ok=true 250
  STARTTLS: yes, TLS: yes, BDAT: no
bool(true)
bool(true)
bool(true)
bool(true)
