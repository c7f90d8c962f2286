--TEST--
smtpcore: file attachments (relative paths, missing files) and DKIM signing
--EXTENSIONS--
smtpcore
--FILE--
<?php
$dir = sys_get_temp_dir() . '/smtpcore-att-' . getmypid();
mkdir($dir);
file_put_contents("$dir/report.txt", str_repeat("line of the report\n", 100));
file_put_contents("$dir/gone.bin", "soon gone");

chdir($dir);
$m = (new SmtpCore\Message())->from('a@example.test')->to('b@example.test')->subject('Files')->text("see attached\n")
    ->attach('report.txt')                        // relative to PHP's working directory
    ->attach("$dir/report.txt", 'Bericht März.txt', 'text/plain')
    ->seed(5);
chdir('/');
$out = $m->toString();
var_dump(substr_count($out, base64_encode(str_repeat("line of the report\n", 3))) >= 1);
var_dump(str_contains($out, 'filename=report.txt'));
var_dump(str_contains($out, "filename*=UTF-8''Bericht%20M%C3%A4rz.txt"));

try {
    $m->attach("$dir/nosuch.pdf");
} catch (SmtpCore\LocalException $e) {
    echo get_class($e), ': ', $e->getCategory(), "\n";
}
// The file is read when the message is rendered: gone by then is a local error.
$g = (new SmtpCore\Message())->from('a@example.test')->to('b@example.test')->attach("$dir/gone.bin");
unlink("$dir/gone.bin");
try {
    $g->toString();
} catch (SmtpCore\LocalException $e) {
    echo get_class($e), ': ', str_contains($e->getMessage(), 'gone.bin') ? 'names the file' : $e->getMessage(), "\n";
}

// DKIM: RSA from OpenSSL, Ed25519 from sodium (PKCS#8 around the seed).
$rsa = openssl_pkey_new(['private_key_bits' => 2048, 'private_key_type' => OPENSSL_KEYTYPE_RSA]);
openssl_pkey_export($rsa, $rsa_pem);
$seed = random_bytes(32);
$ed_pem = "-----BEGIN PRIVATE KEY-----\n" . base64_encode(hex2bin('302e020100300506032b657004220420') . $seed)
        . "\n-----END PRIVATE KEY-----\n";
$d = (new SmtpCore\Message())->from('Alice <alice@example.test>')->to('bob@example.test')->subject('Signed')
    ->text("signed body\n\n\n")->seed(11)
    ->dkim(['domain' => 'example.test', 'selector' => 'rsa1', 'privateKey' => $rsa_pem,
            'canonicalization' => 'simple/simple', 'headers' => ['From', 'To', 'Subject'], 'timestamp' => 1767225600])
    ->dkim(['domain' => 'example.test', 'selector' => 'ed1', 'privateKey' => $ed_pem, 'headers' => 'From:Subject']);
$signed = $d->toString();
preg_match_all('/^DKIM-Signature:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*/m', $signed, $sigs);
echo count($sigs[0]), " signatures\n";
foreach ($sigs[0] as $sig) {
    $tags = [];
    foreach (explode(';', preg_replace('/\s+/', '', substr($sig, strlen('DKIM-Signature:')))) as $kv) {
        if (str_contains($kv, '=')) {
            [$k, $v] = explode('=', $kv, 2);
            $tags[$k] = $v;
        }
    }
    echo "a={$tags['a']} d={$tags['d']} s={$tags['s']} c={$tags['c']} h={$tags['h']} b:", strlen($tags['b']) > 40 ? 'yes' : 'no', "\n";
    if ($tags['c'] === 'simple/simple') {
        // RFC 6376 3.4.3: the body without trailing empty lines, ending in one CRLF.
        $body = substr($signed, strpos($signed, "\r\n\r\n") + 4);
        $body = rtrim($body, "\r\n") . "\r\n";
        var_dump($tags['bh'] === base64_encode(hash('sha256', $body, true)));
        var_dump($tags['t'] === '1767225600');
    }
}
unlink("$dir/report.txt");
rmdir($dir);
?>
--EXPECTF--
bool(true)
bool(true)
bool(true)
SmtpCore\LocalException: local
SmtpCore\LocalException: names the file
2 signatures
a=ed25519-sha256 d=example.test s=ed1 c=relaxed/relaxed h=From:%SSubject b:yes
a=rsa-sha256 d=example.test s=rsa1 c=simple/simple h=From:%STo:Subject b:yes
bool(true)
bool(true)
