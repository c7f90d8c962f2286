--TEST--
smtpcore: a transcript callable sees every line; it cannot re-enter the client or change the message being sent
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_fault_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

$fs = sc_fault_start(['script' => array_merge(sc_greet_ehlo(['AUTH PLAIN']), [['expect' => 'AUTH PLAIN'],
    ['send' => "235 2.7.0 Authentication successful\r\n"]], sc_accept_mail(), sc_quit()), 'max_connections' => 5]);
$auth = ['username' => 'alice', 'password' => 'S3cret!pw', 'allowPlaintextAuth' => true];

echo "-- a closure gets each line\n";
$seen = [];
$c = new SmtpCore\Client(sc_fault_options($fs, $auth), transcript: function (string $line) use (&$seen) {
    $seen[] = $line;
});
$c->send(sc_message());
var_dump($seen === $c->transcript(), count($seen) > 10);
echo implode("\n", preg_grep('/AUTH/', $seen)), "\n";
var_dump(str_contains(implode("\n", $seen), 'S3cret'));
unset($c);

echo "-- a method, and no kept transcript\n";
class Log { public array $lines = []; function add(string $l): void { $this->lines[] = $l; } }
$log = new Log();
$c = new SmtpCore\Client(sc_fault_options($fs, $auth + ['transcript' => [$log, 'add']]));
var_dump($c->send(sc_message())->ok(), $c->transcript() === $log->lines);
$c = new SmtpCore\Client(sc_fault_options($fs, $auth), transcript: false);
var_dump($c->send(sc_message())->ok(), $c->transcript());
unset($c);

echo "-- re-entry and changes are refused, exceptions propagate\n";
$m = sc_message();
$client = null;
$client = new SmtpCore\Client(sc_fault_options($fs, $auth), transcript: function (string $line) use (&$client, $m) {
    if (str_starts_with($line, 'C: MAIL')) {
        try {
            $client->send($m);
        } catch (Error $e) {
            echo $e->getMessage(), "\n";
        }
        try {
            $client->close();
        } catch (Error $e) {
            echo $e->getMessage(), "\n";
        }
        try {
            $m->subject('changed while sending');
        } catch (Error $e) {
            echo $e->getMessage(), "\n";
        }
        echo strlen($m->toString()) > 100 ? "reading is fine\n" : "?\n";
        throw new RuntimeException('from the callback');
    }
});
try {
    $client->send($m);
} catch (RuntimeException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
$m->subject('changed afterwards'); // unlocked again
$client = null;

echo "-- a cycle through the callback is collected\n";
$holder = new stdClass();
$holder->client = new SmtpCore\Client(sc_fault_options($fs, $auth), transcript: function ($line) use ($holder) {});
$holder->client->send(sc_message());
unset($holder);
var_dump(gc_collect_cycles() > 0);
echo sc_fault_finish($fs), "\n";
?>
--EXPECTF--
-- a closure gets each line
bool(true)
bool(true)
S: 250 AUTH PLAIN
C: AUTH PLAIN <redacted>
bool(false)
-- a method, and no kept transcript
bool(true)
bool(true)
bool(true)
array(0) {
}
-- re-entry and changes are refused, exceptions propagate
SmtpCore\Client::send() cannot be called from the client's own transcript callback
SmtpCore\Client::close() cannot be called from the client's own transcript callback
SmtpCore\Message cannot be changed while it is being sent
reading is fine
RuntimeException: from the callback
-- a cycle through the callback is collected
bool(true)
DONE ok
