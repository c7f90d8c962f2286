--TEST--
smtpcore: one connection for many sends, reopened when the server dropped it or after close(); sendRaw()
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_fault_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

function connects(SmtpCore\Client $c): int {
    return count(preg_grep('/^\*  connecting to /', $c->transcript()));
}

echo "-- two messages, one connection\n";
$fs = sc_fault_start(array_merge(sc_greet_ehlo(), sc_accept_mail(), sc_accept_mail(), sc_quit()));
$c = new SmtpCore\Client(sc_fault_options($fs));
var_dump($c->send(sc_message())->ok(), connects($c));
var_dump($c->send(sc_message('bob@example.test', 'Second'))->ok(), connects($c));
var_dump($c->transcript()[0]);
$c->close();
echo sc_fault_finish($fs, 5, $json), "\n";
echo count($json['connections']), " connection(s), ", count($json['connections'][0]['data']), " messages\n";

echo "-- the server drops the idle connection: the next send reconnects and succeeds\n";
$fs = sc_fault_start(['script' => [], 'max_connections' => 2, 'per_connection' => [
    array_merge(sc_greet_ehlo(), sc_accept_mail(), [['close' => true]]),
    array_merge(sc_greet_ehlo(), sc_accept_mail(), sc_quit())]]);
$c = new SmtpCore\Client(sc_fault_options($fs));
var_dump($c->send(sc_message())->ok());
usleep(200000); // the server has closed by now
$r = $c->send(sc_message('bob@example.test', 'After the drop'));
var_dump($r->ok(), $r->accepted(), connects($c));
echo implode("\n", preg_grep('/^\*  error: /', $c->transcript())), "\n";
unset($c);
echo sc_fault_finish($fs, 5, $json), "\n";
echo count($json['connections']), " connections\n";
var_dump(str_contains($json['connections'][1]['data'][0]['text'], 'Subject: After the drop'));

echo "-- close() then send: a new connection\n";
$fs = sc_fault_start(['script' => array_merge(sc_greet_ehlo(), sc_accept_mail(), sc_quit()), 'max_connections' => 2]);
$c = new SmtpCore\Client(sc_fault_options($fs));
$c->send(sc_message());
$c->close();
$c->close(); // twice is fine
$c->send(sc_message());
var_dump(connects($c));
$lines = $c->transcript();
unset($c);
echo sc_fault_finish($fs, 5, $json), "\n";
echo count($json['connections']), " connections\n";

echo "-- sendRaw: line ends normalised, dots stuffed\n";
$fs = sc_fault_start(array_merge(sc_greet_ehlo(['8BITMIME']), sc_accept_mail(2), sc_quit()));
$c = new SmtpCore\Client(sc_fault_options($fs));
$raw = "From: a@example.test\nTo: b@example.test\nSubject: raw\n\n.leading dot\nbare\rCR and LF\nlast line without end";
$r = $c->sendRaw($raw, 'a@example.test', ['b@example.test', 'c@example.test']);
var_dump($r->ok(), $r->accepted());
unset($c);
echo sc_fault_finish($fs, 5, $json), "\n";
echo json_encode($json['connections'][0]['data'][0]['text']), "\n";
echo json_encode(array_values(preg_grep('/^(MAIL|RCPT)/', $json['connections'][0]['lines']))), "\n";

echo "-- sendRaw arguments\n";
$c = new SmtpCore\Client(host: '127.0.0.1', port: 1, security: 'none');
foreach ([['x', 'not an address', ['b@example.test']], ['x', 'a@example.test', []],
          ['x', 'a@example.test', ['b@example.test', 'bad address']], ['x', 'a@example.test', [42]],
          ['x', "a@example.test\r\nRCPT TO:<evil@x>", ['b@example.test']], ['x', 'a@example.test', ["b@example.test\0"]],
          ['x', '<a@example.test>', ['b@example.test']]] as $args) {
    try {
        $c->sendRaw(...$args);
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
?>
--EXPECTF--
-- two messages, one connection
bool(true)
int(1)
bool(true)
int(0)
string(%d) "C: MAIL FROM:<alice@example.test>%S"
DONE ok
1 connection(s), 2 messages
-- the server drops the idle connection: the next send reconnects and succeeds
bool(true)
bool(true)
array(1) {
  [0]=>
  string(16) "bob@example.test"
}
int(1)
*  error: %s
DONE ok
2 connections
bool(true)
-- close() then send: a new connection
int(1)
DONE ok
2 connections
-- sendRaw: line ends normalised, dots stuffed
bool(true)
array(2) {
  [0]=>
  string(14) "b@example.test"
  [1]=>
  string(14) "c@example.test"
}
DONE ok
"From: a@example.test\r\nTo: b@example.test\r\nSubject: raw\r\n\r\n..leading dot\r\nbare\r\nCR and LF\r\nlast line without end\r\n"
["MAIL FROM:<a@example.test>\r\n","RCPT TO:<b@example.test>\r\n","RCPT TO:<c@example.test>\r\n"]
-- sendRaw arguments
ValueError: SmtpCore\Client::sendRaw(): Argument #2 ($from) is invalid: %s
ValueError: SmtpCore\Client::sendRaw(): Argument #3 ($to) is invalid: %s
ValueError: SmtpCore\Client::sendRaw(): Argument #3 ($to) is invalid: %s
TypeError: SmtpCore\Client::sendRaw(): Argument #3 ($to) must contain only strings, int given
ValueError: SmtpCore\Client::sendRaw(): Argument #2 ($from) is invalid: %s
ValueError: SmtpCore\Client::sendRaw(): Argument #3 ($to) must not contain any null bytes
ValueError: SmtpCore\Client::sendRaw(): Argument #2 ($from) is invalid: %s
