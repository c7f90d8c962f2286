--TEST--
smtpcore: bad Message arguments raise TypeError/ValueError naming the argument
--EXTENSIONS--
smtpcore
--FILE--
<?php
function t(callable $f) {
    try {
        $f();
        echo "no exception\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
$m = new SmtpCore\Message();
t(fn() => $m->from([]));
t(fn() => $m->from("alice@example.test\0evil"));
t(fn() => $m->from('not an address'));
t(fn() => $m->from("Alice <alice@example.test>\r\nBcc: x@evil.test"));
t(fn() => $m->to(new stdClass));
t(fn() => $m->to([1]));
t(fn() => $m->to(['ok@example.test', 'bad']));
t(fn() => $m->to(''));
t(fn() => $m->cc(["x@example.test\0"]));
t(fn() => $m->subject("two\nlines"));
t(fn() => $m->subject("\xff\xfe"));
t(fn() => $m->text("\xff"));
t(fn() => $m->html("a\0b"));
t(fn() => $m->calendar("BEGIN:VCALENDAR\n", 'not a method!'));
t(fn() => $m->attach('phar:///tmp/x.phar/a.txt'));
t(fn() => $m->attach(__DIR__));
t(fn() => $m->attach(__FILE__, "a\"b\r\nc"));
t(fn() => $m->attach(__FILE__, null, 'nottype'));
t(fn() => $m->attach(__FILE__, 'ok.txt', 'text/plain; x=y'));
t(fn() => $m->attachData('x', ''));
t(fn() => $m->attachData('x', 'name.bin', 'bad type'));
t(fn() => $m->embed(__FILE__, 'bad cid<>'));
t(fn() => $m->embedData('x', 'logo@x', "bad\nname"));
t(fn() => $m->embedData('x', 'logo@x', 'logo.png', 'image'));
t(fn() => $m->header('From', 'x@example.test'));
t(fn() => $m->header('Bad Name', 'x'));
t(fn() => $m->header('X-Ok', "a\r\nb"));
t(fn() => $m->header('Message-ID', 'no-brackets'));
t(fn() => $m->seed('abc'));
t(fn() => $m->date(-1));
t(fn() => $m->date(0, 5000));
t(fn() => $m->dkim([]));
t(fn() => $m->dkim(['domain' => 'example.test', 'selector' => 's1']));
t(fn() => $m->dkim(['domain' => 1, 'selector' => 's1', 'privateKey' => 'x']));
t(fn() => $m->dkim(['domain' => 'example.test', 'selector' => 's1', 'privateKey' => 'x', 'bogus' => 1]));
t(fn() => $m->dkim(['domain' => 'example.test', 'selector' => 's1', 'privateKey' => 'not a key']));
t(fn() => $m->dkim(['domain' => 'example.test', 'selector' => 's1', 'privateKey' => 'x', 'timestamp' => 'now']));
t(fn() => $m->dkim(['domain' => 'example.test', 'selector' => 's1', 'privateKey' => 'x', 'headers' => [1]]));
t(fn() => $m->toString('yes', []));
// Nothing above changed the message: it still has no From.
t(fn() => $m->toString());
echo "done\n";
?>
--EXPECTF--
TypeError: SmtpCore\Message::from(): Argument #1 ($address) must be of type string, array given
ValueError: SmtpCore\Message::from(): Argument #1 ($address) must not contain any null bytes
ValueError: SmtpCore\Message::from(): Argument #1 ($address) is invalid: %s
ValueError: SmtpCore\Message::from(): Argument #1 ($address) is invalid: %s
TypeError: SmtpCore\Message::to(): Argument #1 ($addresses) must be of type array|string, stdClass given
TypeError: SmtpCore\Message::to(): Argument #1 ($addresses) must contain only strings, int given
ValueError: SmtpCore\Message::to(): Argument #1 ($addresses) element 2 is invalid: %s
ValueError: SmtpCore\Message::to(): Argument #1 ($addresses) is invalid: %s
ValueError: SmtpCore\Message::cc(): Argument #1 ($addresses) must not contain any null bytes
ValueError: SmtpCore\Message::subject(): Argument #1 ($subject) is invalid: %s
ValueError: SmtpCore\Message::subject(): Argument #1 ($subject) is invalid: %s
ValueError: SmtpCore\Message::text(): Argument #1 ($text) is invalid: %s
ValueError: SmtpCore\Message::html(): Argument #1 ($html) is invalid: %s
ValueError: SmtpCore\Message::calendar(): Argument #2 ($method) is invalid: %s
ValueError: SmtpCore\Message::attach(): Argument #1 ($path) is invalid: %s
ValueError: SmtpCore\Message::attach(): Argument #1 ($path) is invalid: %s
ValueError: SmtpCore\Message::attach(): Argument #2 ($name) is invalid: %s
ValueError: SmtpCore\Message::attach(): Argument #3 ($type) is invalid: %s
ValueError: SmtpCore\Message::attach(): Argument #3 ($type) is invalid: %s
ValueError: SmtpCore\Message::attachData(): Argument #2 ($name) is invalid: %s
ValueError: SmtpCore\Message::attachData(): Argument #3 ($type) is invalid: %s
ValueError: SmtpCore\Message::embed(): Argument #2 ($cid) is invalid: %s
ValueError: SmtpCore\Message::embedData(): Argument #3 ($name) is invalid: %s
ValueError: SmtpCore\Message::embedData(): Argument #4 ($type) is invalid: %s
ValueError: SmtpCore\Message::header(): Argument #1 ($name) is invalid: %s
ValueError: SmtpCore\Message::header(): Argument #1 ($name) is invalid: %s
ValueError: SmtpCore\Message::header(): Argument #2 ($value) is invalid: %s
ValueError: SmtpCore\Message::header(): Argument #2 ($value) is invalid: %s
TypeError: SmtpCore\Message::seed(): Argument #1 ($seed) must be of type int, string given
ValueError: SmtpCore\Message::date(): Argument #1 ($timestamp) is invalid: %s
ValueError: SmtpCore\Message::date(): Argument #2 ($utcOffsetMinutes) must be between -1439 and 1439 (minutes east of UTC)
ValueError: SmtpCore\Message::dkim(): Argument #1 ($options) must contain the option "domain"
ValueError: SmtpCore\Message::dkim(): Argument #1 ($options) must contain the option "privateKey"
TypeError: SmtpCore\Message::dkim(): Argument #1 ($options) option "domain" must be of type string, int given
ValueError: SmtpCore\Message::dkim(): Argument #1 ($options) contains unknown option "bogus"
ValueError: SmtpCore\Message::dkim(): Argument #1 ($options) is invalid: %s
TypeError: SmtpCore\Message::dkim(): Argument #1 ($options) option "timestamp" must be of type int, string given
ValueError: SmtpCore\Message::dkim(): Argument #1 ($options) option "headers" must list header names as strings
TypeError: SmtpCore\Message::toString(): Argument #2 ($smtputf8) must be of type bool, array given
SmtpCore\UsageException: the message has no From address
done
