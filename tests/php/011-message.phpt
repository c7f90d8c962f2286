--TEST--
smtpcore: Message is fluent; addresses, parts, headers, date and calendar reach the output
--EXTENSIONS--
smtpcore
--FILE--
<?php
class MyMessage extends SmtpCore\Message {}

$m = new MyMessage();
$same = $m->from('Alice Example <alice@example.test>')
    ->sender('secretary@example.test')
    ->envelopeSender('bounces@example.test')
    ->to('Bob <bob@example.test>, carol@example.test')
    ->to(['dave@example.test', 'Erin <erin@example.test>'])
    ->cc(['frank@example.test'])
    ->bcc('hidden@example.test')
    ->replyTo('replies@example.test')
    ->subject('Grüße aus Köln')
    ->text("plain\n")
    ->html("<p>html <img src=\"cid:logo@x\"></p>\n")
    ->attachData("col1,col2\n1,2\n", 'table.csv')
    ->attachData("\x00\x01binary", 'blob.bin', 'application/x-custom')
    ->embedData("\x89PNG fake", 'logo@x', 'logo.png', 'image/png')
    ->header('X-Campaign', 'spring')
    ->header('List-Unsubscribe', '<mailto:unsub@example.test>')
    ->date(1767225600, 60)
    ->seed(99);
var_dump($same === $m, get_class($same));

$out = $m->toString();
var_dump(str_contains($out, "\r\n") && !preg_match('/(?<!\r)\n/', $out));
foreach (['From: Alice Example <alice@example.test>', 'Sender: secretary@example.test',
          'To: Bob <bob@example.test>, carol@example.test, dave@example.test,', 'Cc: frank@example.test',
          'Reply-To: replies@example.test', 'Subject: =?UTF-8?', 'X-Campaign: spring',
          'List-Unsubscribe: <mailto:unsub@example.test>', 'Date: Thu, 01 Jan 2026 01:00:00 +0100',
          'multipart/mixed', 'multipart/related', 'multipart/alternative', 'filename=table.csv',
          'Content-Type: application/x-custom', 'Content-ID: <logo@x>'] as $needle) {
    if (!str_contains($out, $needle)) {
        echo "missing: $needle\n";
    }
}
var_dump(str_contains($out, 'hidden@example.test'));       // Bcc never in the headers
var_dump(str_contains($out, 'bounces@example.test'));      // the envelope sender neither
var_dump($m->toString() === $out);                         // deterministic with a seed
var_dump((clone_ok($m)));

// 8BITMIME lets UTF-8 text go as 8bit; SMTPUTF8 lets UTF-8 headers go raw.
$u = (new SmtpCore\Message())->from('a@example.test')->to('b@example.test')->subject('Grüße')->text("Grüße\n")->seed(1);
var_dump(str_contains($u->toString(), 'Content-Transfer-Encoding: 8bit'));
var_dump(str_contains($u->toString(true), 'Content-Transfer-Encoding: 8bit'));
var_dump(str_contains($u->toString(true, true), 'Subject: Grüße'));

// A calendar invitation.
$c = (new SmtpCore\Message())->from('a@example.test')->to('b@example.test')->subject('Invite')
    ->text("You are invited\n")->calendar("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n", 'publish')->seed(3);
var_dump(str_contains($c->toString(), 'text/calendar; charset=utf-8; method=PUBLISH'));

function clone_ok($m) {
    try {
        clone $m;
        return true;
    } catch (Error $e) {
        echo $e->getMessage(), "\n";
        return false;
    }
}
try {
    serialize($m);
} catch (Exception $e) {
    echo $e->getMessage(), "\n";
}
try {
    $plain = new SmtpCore\Message();
    $plain->undeclared = 1;
} catch (Error $e) {
    echo $e->getMessage(), "\n";
}
?>
--EXPECT--
bool(true)
string(9) "MyMessage"
bool(true)
bool(false)
bool(false)
bool(true)
Trying to clone an uncloneable object of class MyMessage
bool(false)
bool(false)
bool(true)
bool(true)
bool(true)
Serialization of 'MyMessage' is not allowed
Cannot create dynamic property SmtpCore\Message::$undeclared
