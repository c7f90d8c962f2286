--TEST--
smtpcore: security notes through the PHP API (NUL/CR/LF in arguments, smuggling on the wire, STARTTLS, files, headers, shell)
--DESCRIPTION--
The items of the security notes that the extension must show through its own
API (tests/SECURITY.md maps them): a PHP string with a NUL byte would be cut
short as a C string, so every string argument must refuse it; the rest reads
the wire back from the fault server.
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_fault_skipif(); ?>
--INI--
zend.exception_ignore_args=0
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';
use SmtpCore\Client;
use SmtpCore\Message;

function t(string $what, callable $f): void {
    try {
        $f();
        echo "$what: no exception\n";
    } catch (Throwable $e) {
        echo "$what: ", get_class($e), ': ', $e->getMessage(), "\n";
        if (str_contains($e->getMessage(), 's3cr3t') || str_contains($e->getTraceAsString(), 's3cr3t')) {
            echo "  the secret is in the exception\n";
        }
    }
}

/** The lines the client sent on connection $i, CRLF removed. */
function sent_lines(?array $json, int $i = 0): array {
    return array_map(fn($l) => rtrim($l, "\r\n"), $json['connections'][$i]['lines'] ?? []);
}

echo "-- NUL in every string argument: refused, never cut short\n";
$m = new Message();
$file = __FILE__;
$args = [
    'from' => fn() => $m->from("alice@example.test\0evil"),
    'from name' => fn() => $m->from("Al\0ice <alice@example.test>"),
    'to string' => fn() => $m->to("bob@example.test\0, evil@example.test"),
    'to array' => fn() => $m->to(['bob@example.test', "evil\0@example.test"]),
    'cc' => fn() => $m->cc("carol@example.test\0"),
    'bcc' => fn() => $m->bcc(["dave@example.test\0"]),
    'replyTo' => fn() => $m->replyTo("erin@example.test\0"),
    'sender' => fn() => $m->sender("frank@example.test\0"),
    'envelopeSender' => fn() => $m->envelopeSender("bounces@example.test\0"),
    'subject' => fn() => $m->subject("hi\0Bcc: evil@example.test"),
    'header name' => fn() => $m->header("X-A\0B", 'v'),
    'header value' => fn() => $m->header('X-A', "v\0Bcc: evil@example.test"),
    'attach path' => fn() => $m->attach("$file\0.txt"),
    'attach name' => fn() => $m->attach($file, "a\0.txt"),
    'attach type' => fn() => $m->attach($file, 'a.txt', "text/plain\0"),
    'attachData name' => fn() => $m->attachData('x', "a\0.txt"),
    'attachData type' => fn() => $m->attachData('x', 'a.txt', "text/plain\0"),
    'embed path' => fn() => $m->embed("$file\0", 'logo@x'),
    'embed cid' => fn() => $m->embed($file, "logo\0@x"),
    'embedData cid' => fn() => $m->embedData('x', "logo\0@x"),
    'embedData name' => fn() => $m->embedData('x', 'logo@x', "l\0.png"),
    'calendar method' => fn() => $m->calendar("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "REQUEST\0"),
    'dkim domain' => fn() => $m->dkim(['domain' => "example\0.test", 'selector' => 's1', 'privateKey' => 'x']),
    'host' => fn() => new Client(host: "smtp.example.test\0.evil"),
    'username' => fn() => new Client(host: 'smtp.example.test', username: "alice\0x", password: 'pw'),
    'password' => fn() => new Client(host: 'smtp.example.test', username: 'alice', password: "s3cr3t\0x"),
    'password in options' => fn() => new Client(['host' => 'smtp.example.test', 'username' => 'alice', 'password' => "s3cr3t\0x"]),
    'oauth2Token' => fn() => new Client(host: 'smtp.example.test', username: 'alice', oauth2Token: "s3cr3t\0x"),
    'ehloName' => fn() => new Client(host: 'smtp.example.test', ehloName: "client.example.test\0x"),
    'tlsServerName' => fn() => new Client(host: 'smtp.example.test', tlsServerName: "smtp\0.example.test"),
    'caFile' => fn() => new Client(host: 'smtp.example.test', caFile: "/etc/ssl/ca\0.pem"),
    'sendRaw from' => fn() => (new Client(host: '127.0.0.1', port: 1, security: 'none'))->sendRaw('x', "alice@example.test\0", ['bob@example.test']),
    'sendRaw to' => fn() => (new Client(host: '127.0.0.1', port: 1, security: 'none'))->sendRaw('x', 'alice@example.test', ["bob@example.test\0"]),
];
foreach ($args as $what => $f) {
    t($what, $f);
}
t('the message is unchanged', fn() => $m->toString());

echo "-- CR and LF in AUTH arguments and the EHLO name\n";
foreach (["\r\n", "\n"] as $bad) {
    t('username', fn() => new Client(host: 'smtp.example.test', username: "alice{$bad}MAIL FROM:<e@x>", password: 'pw'));
    t('password', fn() => new Client(host: 'smtp.example.test', username: 'alice', password: "s3cr3t{$bad}x"));
    t('password in options', fn() => new Client(['host' => 'smtp.example.test', 'username' => 'alice', 'password' => "s3cr3t{$bad}x"]));
    t('oauth2Token', fn() => new Client(host: 'smtp.example.test', username: 'alice', oauth2Token: "s3cr3t{$bad}x"));
    t('ehloName', fn() => new Client(host: 'smtp.example.test', ehloName: "client.example.test{$bad}MAIL FROM:<e@x>"));
}

echo "-- SMTP smuggling patterns on the wire (sendRaw and a composed message; DATA and BDAT)\n";
$body = "Subject: x\r\n\r\na\n.\nb\r.\rc\r\n.\nd\n.\r\ne\r\n.\rf\r\n..g\r\n.\r\nh";
$wire = "Subject: x\r\n\r\na\r\n..\r\nb\r\n..\r\nc\r\n..\r\nd\r\n..\r\ne\r\n..\r\nf\r\n...g\r\n..\r\nh\r\n";
$unstuff = fn(string $w) => preg_replace('/^\./m', '', $w);
$safe = function (string $w, bool $bdat): string {
    $bad = [];
    if (preg_match('/\r(?!\n)|(?<!\r)\n/', $w)) $bad[] = 'bare CR or LF';
    if (!str_ends_with($w, "\r\n")) $bad[] = 'no CRLF at the end';
    if (!$bdat && (str_contains($w, "\r\n.\r\n") || str_starts_with($w, ".\r\n"))) $bad[] = 'end of data inside';
    if (!$bdat && preg_match('/^\.(?!\.)/m', $w)) $bad[] = 'a line-initial dot not doubled';
    return $bad ? implode(', ', $bad) : 'safe';
};
$text = substr($body, strlen("Subject: x\r\n\r\n"));
$composed = (new Message())->from('alice@example.test')->to('bob@example.test')->subject('smuggling')
    ->text($text)->html(str_replace('h', '<b>h</b>', $text))->seed(3);
foreach (['DATA' => false, 'BDAT' => true] as $mode => $bdat) {
    $transfer = $bdat ? [['read_bdat' => true, 'until_last' => true, 'reply' => "250 2.0.0 ok\r\n"]]
                      : [['expect' => 'DATA'], ['send' => "354 go\r\n"], ['read_data' => true], ['send' => "250 2.0.0 ok\r\n"]];
    $caps = $bdat ? ['8BITMIME', 'CHUNKING'] : ['8BITMIME'];
    foreach (['sendRaw' => null, 'Message' => $composed] as $how => $msg) {
        $fs = sc_fault_start(array_merge(sc_greet_ehlo($caps), [['expect' => 'MAIL FROM:'], ['send' => "250 ok\r\n"],
                                         ['expect' => 'RCPT TO:'], ['send' => "250 ok\r\n"]], $transfer, sc_quit()));
        $c = new Client(sc_fault_options($fs));
        $r = $msg ? $c->send($msg) : $c->sendRaw($body, 'alice@example.test', ['bob@example.test']);
        unset($c);
        $done = sc_fault_finish($fs, 5, $json);
        $parts = $bdat ? $json['connections'][0]['bdat'] : $json['connections'][0]['data'];
        $got = implode('', array_map(fn($p) => hex2bin($p['hex']), $parts));
        $as_expected = $msg ? ($bdat ? $got : $unstuff($got)) === $composed->toString(true)
                            : $got === ($bdat ? $unstuff($wire) : $wire);
        echo "$mode $how: ok=", var_export($r->ok(), true), ", ", $safe($got, $bdat), ", as expected: ",
             var_export($as_expected, true),
             ", server: $done\n";
    }
}

echo "-- STARTTLS refused (454, 501): nothing after STARTTLS, no AUTH in clear\n";
foreach (['starttls', 'opportunistic'] as $security) {
    foreach (["454 4.7.0 TLS not available", "501 5.5.4 Syntax error"] as $reply) {
        $fs = sc_fault_start(array_merge(sc_greet_ehlo(['STARTTLS', 'AUTH PLAIN LOGIN', '8BITMIME']),
                                         [['expect' => 'STARTTLS'], ['send' => "$reply\r\n"], ['wait_close' => 3]]));
        $c = new Client(sc_fault_options($fs, ['security' => $security, 'username' => 'alice', 'password' => 's3cr3t-pw']));
        try {
            $c->send(sc_message());
            echo "$security $reply: sent?\n";
        } catch (SmtpCore\Exception $e) {
            echo "$security ", substr($reply, 0, 3), ': ', sc_describe($e);
        }
        unset($c);
        sc_fault_finish($fs, 5, $json);
        $lines = sent_lines($json);
        echo '  client sent: ', implode(' | ', array_map(fn($l) => preg_replace('/^EHLO .*/', 'EHLO', $l), $lines)), "\n";
    }
}

echo "-- STARTTLS response injection: refused before the handshake\n";
$fs = sc_fault_start(array_merge(sc_greet_ehlo(['STARTTLS', 'PIPELINING']), [['expect' => 'STARTTLS'],
    ['send' => "220 2.0.0 Ready\r\n250-XFAKE\r\n250 AUTH PLAIN\r\n"], ['wait_close' => 3]]));
$c = new Client(sc_fault_options($fs, ['security' => 'starttls', 'username' => 'alice', 'password' => 's3cr3t-pw']));
try {
    $c->send(sc_message());
    echo "sent?\n";
} catch (SmtpCore\Exception $e) {
    echo sc_describe($e), '  ', str_contains($e->getMessage(), 'injection') ? 'names the injection' : $e->getMessage(), "\n";
}
unset($c);
sc_fault_finish($fs, 5, $json);
echo '  after STARTTLS: ', json_encode(array_slice(sent_lines($json), array_search('STARTTLS', sent_lines($json)) + 1)), "\n";

echo "-- attachments only from plain files\n";
$dir = sys_get_temp_dir() . '/smtpcore-sec-' . getmypid();
mkdir($dir);
shell_exec('mkfifo ' . escapeshellarg("$dir/fifo")); // the tests run without php.ini: no posix extension
foreach (['/dev/zero', '/dev/urandom', "$dir/fifo", $dir] as $path) {
    foreach (['attach' => fn() => (new Message())->attach($path), 'embed' => fn() => (new Message())->embed($path, 'logo@x')] as $how => $f) {
        $t = microtime(true);
        t(str_replace($dir, 'DIR', "$how $path"), $f);
        if (microtime(true) - $t > 2) {
            echo "  slow\n";
        }
    }
}
unlink("$dir/fifo");
rmdir($dir);

echo "-- header values read back exactly\n";
/* RFC 2047 and RFC 5322 read back without PHP's mail functions: unfold, join adjacent encoded words, decode. */
function decode_unstructured(string $v): string {
    $v = preg_replace('/\r\n(?=[ \t])/', '', $v);
    $ew = '=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=';
    $v = preg_replace("/($ew)[ \\t]+(?=$ew)/", '$1', $v);
    return preg_replace_callback("/=\\?([^?\\s]+)\\?([BbQq])\\?([^?\\s]*)\\?=/", function ($m) {
        $t = strtoupper($m[2]) === 'B' ? base64_decode($m[3]) : quoted_printable_decode(str_replace('_', ' ', $m[3]));
        return strcasecmp($m[1], 'UTF-8') === 0 ? $t : "(charset {$m[1]})";
    }, $v);
}
function unquote(string $q): string {
    return preg_replace('/\\\\(.)/s', '$1', substr($q, 1, -1));
}
$subject = 'Grüße "quoted" =?UTF-8?B?ZmFrZQ==?= ' . str_repeat('w', 90) . ' end';
$value = 'v =?utf-8?q?fake?= ü ' . str_repeat('x', 120);
$name = 'Doe, "Jane" @ Example';
$file = 'a "quoted"; name=x.txt';
$m = (new Message())->from('"Doe, \"Jane\" @ Example" <alice@example.test>')->to('bob@example.test')
    ->subject($subject)->header('X-Tricky', $value)->text("x\n")->attachData('data', $file)->seed(5);
$out = $m->toString();
$head = substr($out, 0, strpos($out, "\r\n\r\n") + 2);
preg_match_all('/^([^\s:]+):((?:[^\r\n]*)(?:\r\n[ \t][^\r\n]*)*)\r\n/m', $head, $fields, PREG_SET_ORDER);
$h = [];
foreach ($fields as [, $k, $v]) {
    $h[$k] = ltrim($v, ' ');
}
echo implode(',', array_keys($h)), "\n";
var_dump(decode_unstructured($h['Subject']) === $subject, decode_unstructured($h['X-Tricky']) === $value);
var_dump(preg_match('/^("(?:[^"\\\\]|\\\\.)*") <alice@example\.test>$/', $h['From'], $q) === 1 && unquote($q[1]) === $name);
var_dump(preg_match('/Content-Disposition: attachment; filename=("(?:[^"\\\\\r\n]|\\\\.)*")\r\n/', $out, $q) === 1 && unquote($q[1]) === $file);

echo "-- the envelope is the header's addresses; CVE-2023-27043 payloads are refused\n";
$fs = sc_fault_start(array_merge(sc_greet_ehlo(['8BITMIME']), sc_accept_mail(3), sc_quit()));
$m = (new Message())->from('"attacker@evil.test" <me@example.test>')
    ->to(['"x@evil.test" <"odd@local"@example.test>', '"Name, With Comma" <you@example.test>', 'Bücher <info@bücher.example>'])
    ->subject('x')->text("y\n")->seed(4);
$r = (new Client(sc_fault_options($fs)))->send($m);
echo sc_fault_finish($fs, 5, $json), "\n";
echo implode("\n", preg_grep('/^(MAIL|RCPT)/', sent_lines($json))), "\n";
$head = substr($m->toString(), 0, strpos($m->toString(), "\r\n\r\n"));
echo implode("\n", preg_grep('/^(From|To):|^ /', explode("\r\n", $head))), "\n";
foreach (['alice@example.org)<bob@example.org>', 'alice@example.org]<bob@example.org>', 'alice@example.org <bob@example.org>'] as $payload) {
    t($payload, fn() => (new Message())->to($payload));
}

echo "-- no process functions in the extension\n";
$so = SC_ROOT . '/modules/smtpcore.so';
if (!is_file($so) || trim((string)shell_exec('command -v nm')) === '') {
    echo "checked: skipped (no modules/smtpcore.so or no nm)\n";
} else {
    $symbols = [];
    foreach (explode("\n", (string)shell_exec('nm -u -D ' . escapeshellarg($so))) as $line) {
        if (preg_match('/^\s*U\s+([^@\s]+)/', $line, $mm)) {
            $symbols[$mm[1]] = true;
        }
    }
    $process = ['system', 'popen', 'execl', 'execle', 'execlp', 'execv', 'execve', 'execvp', 'execvpe', 'fexecve',
                'fork', 'vfork', 'posix_spawn', 'posix_spawnp', 'wordexp'];
    echo 'imports connect and SSL_set1_host: ', var_export(isset($symbols['connect'], $symbols['SSL_set1_host']), true), "\n";
    echo 'process functions: ', json_encode(array_values(array_filter($process, fn($f) => isset($symbols[$f])))), "\n";
}

echo "-- replies the parser must bound, and a message the server never confirmed\n";
foreach (['too long' => [['send_big_line' => 10 * 1024 * 1024, 'prefix' => '220 ']],
          'too many lines' => [['send' => "220 hi\r\n"], ['expect' => 'EHLO'], ['send_repeat' => "250-X\r\n", 'count' => 100000]],
          'one byte at a time' => [['drip' => '220 ' . str_repeat('x', 34) . "\r\n", 'interval' => 0.1]]] as $what => $script) {
    $fs = sc_fault_start($script);
    $t = microtime(true);
    try {
        (new Client(sc_fault_options($fs, ['timeout' => 1])))->send(sc_message());
        echo "$what: sent?\n";
    } catch (SmtpCore\Exception $e) {
        echo "$what: ", sc_describe($e), '  ', str_contains($e->getMessage(), $what) || $what === 'one byte at a time' ? 'ok' : $e->getMessage(),
             ', within 2 s: ', var_export(microtime(true) - $t < 2, true), "\n";
    }
    sc_fault_finish($fs, 0.5);
}
$fs = sc_fault_start(array_merge(sc_greet_ehlo(['8BITMIME']), [['expect' => 'MAIL FROM:'], ['send' => "250 ok\r\n"],
    ['expect' => 'RCPT TO:'], ['send' => "250 ok\r\n"], ['expect' => 'DATA'], ['send' => "354 go\r\n"], ['read_data' => true], ['close' => true]]));
try {
    (new Client(sc_fault_options($fs)))->send(sc_message());
    echo "close after the final dot: sent?\n";
} catch (SmtpCore\Exception $e) {
    echo 'close after the final dot: ', sc_describe($e), '  result: ', $e->getResult() === null ? 'none' : var_export($e->getResult()->ok(), true), "\n";
}
sc_fault_finish($fs, 5, $json);
echo '  the server got the message: ', var_export(count($json['connections'][0]['data']) === 1, true), "\n";
?>
--EXPECTF--
-- NUL in every string argument: refused, never cut short
from: ValueError: SmtpCore\Message::from(): Argument #1 ($address) must not contain any null bytes
from name: ValueError: SmtpCore\Message::from(): Argument #1 ($address) must not contain any null bytes
to string: ValueError: SmtpCore\Message::to(): Argument #1 ($addresses) must not contain any null bytes
to array: ValueError: SmtpCore\Message::to(): Argument #1 ($addresses) must not contain any null bytes
cc: ValueError: SmtpCore\Message::cc(): Argument #1 ($addresses) must not contain any null bytes
bcc: ValueError: SmtpCore\Message::bcc(): Argument #1 ($addresses) must not contain any null bytes
replyTo: ValueError: SmtpCore\Message::replyTo(): Argument #1 ($addresses) must not contain any null bytes
sender: ValueError: SmtpCore\Message::sender(): Argument #1 ($address) must not contain any null bytes
envelopeSender: ValueError: SmtpCore\Message::envelopeSender(): Argument #1 ($address) must not contain any null bytes
subject: ValueError: SmtpCore\Message::subject(): Argument #1 ($subject) must not contain any null bytes
header name: ValueError: SmtpCore\Message::header(): Argument #1 ($name) must not contain any null bytes
header value: ValueError: SmtpCore\Message::header(): Argument #2 ($value) must not contain any null bytes
attach path: ValueError: SmtpCore\Message::attach(): Argument #1 ($path) must not contain any null bytes
attach name: ValueError: SmtpCore\Message::attach(): Argument #2 ($name) must not contain any null bytes
attach type: ValueError: SmtpCore\Message::attach(): Argument #3 ($type) must not contain any null bytes
attachData name: ValueError: SmtpCore\Message::attachData(): Argument #2 ($name) must not contain any null bytes
attachData type: ValueError: SmtpCore\Message::attachData(): Argument #3 ($type) must not contain any null bytes
embed path: ValueError: SmtpCore\Message::embed(): Argument #1 ($path) must not contain any null bytes
embed cid: ValueError: SmtpCore\Message::embed(): Argument #2 ($cid) must not contain any null bytes
embedData cid: ValueError: SmtpCore\Message::embedData(): Argument #2 ($cid) must not contain any null bytes
embedData name: ValueError: SmtpCore\Message::embedData(): Argument #3 ($name) must not contain any null bytes
calendar method: ValueError: SmtpCore\Message::calendar(): Argument #2 ($method) must not contain any null bytes
dkim domain: ValueError: SmtpCore\Message::dkim(): Argument #1 ($options) option "domain" must not contain any null bytes
host: ValueError: SmtpCore\Client::__construct(): Argument #2 ($host) must not contain any null bytes
username: ValueError: SmtpCore\Client::__construct(): Argument #5 ($username) must not contain any null bytes
password: ValueError: SmtpCore\Client::__construct(): Argument #6 ($password) must not contain any null bytes
password in options: ValueError: SmtpCore\Client::__construct(): Argument #1 ($options) option "password" must not contain any null bytes
oauth2Token: ValueError: SmtpCore\Client::__construct(): Argument #16 ($oauth2Token) must not contain any null bytes
ehloName: ValueError: SmtpCore\Client::__construct(): Argument #14 ($ehloName) must not contain any null bytes
tlsServerName: ValueError: SmtpCore\Client::__construct(): Argument #21 ($tlsServerName) must not contain any null bytes
caFile: ValueError: SmtpCore\Client::__construct(): Argument #11 ($caFile) must not contain any null bytes
sendRaw from: ValueError: SmtpCore\Client::sendRaw(): Argument #2 ($from) must not contain any null bytes
sendRaw to: ValueError: SmtpCore\Client::sendRaw(): Argument #3 ($to) must not contain any null bytes
the message is unchanged: SmtpCore\UsageException: the message has no From address
-- CR and LF in AUTH arguments and the EHLO name
username: ValueError: SmtpCore\Client::__construct(): Argument #5 ($username) is invalid: option 'username' must not contain CR or LF
password: ValueError: SmtpCore\Client::__construct(): Argument #6 ($password) is invalid: option 'password' must not contain CR or LF
password in options: ValueError: SmtpCore\Client::__construct(): Argument #1 ($options) option "password" is invalid: option 'password' must not contain CR or LF
oauth2Token: ValueError: SmtpCore\Client::__construct(): Argument #16 ($oauth2Token) is invalid: option 'oauth2_token' must not contain CR or LF
ehloName: ValueError: SmtpCore\Client::__construct(): Argument #14 ($ehloName) is invalid: option 'ehlo_name' must not contain CR or LF
username: ValueError: SmtpCore\Client::__construct(): Argument #5 ($username) is invalid: option 'username' must not contain CR or LF
password: ValueError: SmtpCore\Client::__construct(): Argument #6 ($password) is invalid: option 'password' must not contain CR or LF
password in options: ValueError: SmtpCore\Client::__construct(): Argument #1 ($options) option "password" is invalid: option 'password' must not contain CR or LF
oauth2Token: ValueError: SmtpCore\Client::__construct(): Argument #16 ($oauth2Token) is invalid: option 'oauth2_token' must not contain CR or LF
ehloName: ValueError: SmtpCore\Client::__construct(): Argument #14 ($ehloName) is invalid: option 'ehlo_name' must not contain CR or LF
-- SMTP smuggling patterns on the wire (sendRaw and a composed message; DATA and BDAT)
DATA sendRaw: ok=true, safe, as expected: true, server: DONE ok
DATA Message: ok=true, safe, as expected: true, server: DONE ok
BDAT sendRaw: ok=true, safe, as expected: true, server: DONE ok
BDAT Message: ok=true, safe, as expected: true, server: DONE ok
-- STARTTLS refused (454, 501): nothing after STARTTLS, no AUTH in clear
starttls 454: TlsException category=tls code=454 enhanced='4.7.0' hint=yes
  client sent: EHLO | STARTTLS
starttls 501: TlsException category=tls code=501 enhanced='5.5.4' hint=yes
  client sent: EHLO | STARTTLS
opportunistic 454: TlsException category=tls code=0 enhanced=NULL hint=yes
  client sent: EHLO | STARTTLS
opportunistic 501: TlsException category=tls code=0 enhanced=NULL hint=yes
  client sent: EHLO | STARTTLS
-- STARTTLS response injection: refused before the handshake
TlsException category=tls code=0 enhanced=NULL hint=yes
  names the injection
  after STARTTLS: []
-- attachments only from plain files
attach /dev/zero: ValueError: SmtpCore\Message::attach(): Argument #1 ($path) is invalid: '/dev/zero' is not a regular file
embed /dev/zero: ValueError: SmtpCore\Message::embed(): Argument #1 ($path) is invalid: '/dev/zero' is not a regular file
attach /dev/urandom: ValueError: SmtpCore\Message::attach(): Argument #1 ($path) is invalid: '/dev/urandom' is not a regular file
embed /dev/urandom: ValueError: SmtpCore\Message::embed(): Argument #1 ($path) is invalid: '/dev/urandom' is not a regular file
attach DIR/fifo: ValueError: SmtpCore\Message::attach(): Argument #1 ($path) is invalid: '%s' is not a regular file
embed DIR/fifo: ValueError: SmtpCore\Message::embed(): Argument #1 ($path) is invalid: '%s' is not a regular file
attach DIR: ValueError: SmtpCore\Message::attach(): Argument #1 ($path) is invalid: '%s' is not a regular file
embed DIR: ValueError: SmtpCore\Message::embed(): Argument #1 ($path) is invalid: '%s' is not a regular file
-- header values read back exactly
Date,From,To,Subject,Message-ID,X-Tricky,MIME-Version,Content-Type
bool(true)
bool(true)
bool(true)
bool(true)
-- the envelope is the header's addresses; CVE-2023-27043 payloads are refused
DONE ok
MAIL FROM:<me@example.test>
RCPT TO:<"odd@local"@example.test>
RCPT TO:<you@example.test>
RCPT TO:<info@xn--bcher-kva.example>
From: "attacker@evil.test" <me@example.test>
To: "x@evil.test" <"odd@local"@example.test>,
 "Name, With Comma" <you@example.test>,
 =?UTF-8?Q?B=C3=BCcher?= <info@xn--bcher-kva.example>
alice@example.org)<bob@example.org>: ValueError: SmtpCore\Message::to(): Argument #1 ($addresses) is invalid: %s
alice@example.org]<bob@example.org>: ValueError: SmtpCore\Message::to(): Argument #1 ($addresses) is invalid: %s
alice@example.org <bob@example.org>: ValueError: SmtpCore\Message::to(): Argument #1 ($addresses) is invalid: %s
-- no process functions in the extension
imports connect and SSL_set1_host: true
process functions: []
-- replies the parser must bound, and a message the server never confirmed
too long: ProtocolException category=protocol code=0 enhanced=NULL hint=yes
  ok, within 2 s: true
too many lines: ProtocolException category=protocol code=0 enhanced=NULL hint=yes
  ok, within 2 s: true
one byte at a time: TimeoutException category=timeout code=0 enhanced=NULL hint=yes
  ok, within 2 s: true
close after the final dot: ConnectException category=connect code=0 enhanced=NULL hint=yes
  result: false
  the server got the message: true