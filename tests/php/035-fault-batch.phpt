--TEST--
smtpcore: sendMany() against scripted servers: a connection lost after the 3rd reply, a message without recipients, no server at all, a non-Message element
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_fault_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

/** One pipelined DATA transaction: the envelope arrives in one write, behind the previous message's data. */
function accept(int $n): array {
    return [['expect' => 'MAIL'], ['expect' => 'RCPT'], ['expect' => 'DATA'],
            ['send' => "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n"], ['read_data' => true],
            ['send' => "250 2.0.0 queued as Q$n\r\n"]];
}

function show(array $results): void {
    foreach ($results as $key => $r) {
        echo "  $key: ", $r instanceof SmtpCore\Result ? 'Result ' . $r->message() . "\n" : sc_describe($r);
    }
}

// The server hangs up after the 3rd message's reply (message 4's envelope already sent):
// 3 results, the rest ConnectException, and nothing of them claimed sent.
$caps = ['PIPELINING', '8BITMIME', 'ENHANCEDSTATUSCODES'];
$fs = sc_fault_start(array_merge(sc_greet_ehlo($caps), accept(1), accept(2), accept(3),
                                 [['expect' => 'MAIL'], ['expect' => 'RCPT'], ['expect' => 'DATA'], ['close' => true]]));
$client = new SmtpCore\Client(sc_fault_options($fs));
$batch = [];
foreach (['a', 'b', 'c', 7, 'e', 'f'] as $i => $key) {
    $batch[$key] = sc_message('bob@example.test', "Batch #$i");
}
$results = $client->sendMany($batch);
show($results);
foreach (['e', 'f'] as $key) {
    var_dump($results[$key]->getResult() === null || $results[$key]->getResult()->accepted() === []);
}
$mails = array_keys(preg_grep('/^C: MAIL FROM:/', $client->transcript()));
$finals = array_keys(preg_grep('/^S: 250 2\.0\.0 queued/', $client->transcript()));
echo count($mails), ' envelopes, pipelined: ', var_export($mails[1] < $finals[0], true), "\n";
echo '  server: ', sc_fault_finish($fs), "\n";

// A message without recipients fails alone, before anything is sent; the others go.
$fs = sc_fault_start(array_merge(sc_greet_ehlo($caps), accept(1), accept(2), sc_quit()));
$client = new SmtpCore\Client(sc_fault_options($fs));
show($client->sendMany([sc_message(), (new SmtpCore\Message())->from('alice@example.test')->text('x'), sc_message()]));
$client->close();
echo '  server: ', sc_fault_finish($fs), "\n";

// A transcript callable cannot re-enter the client, change a message of the batch or send it with
// another client; what it throws propagates, and the messages are unlocked afterwards.
$fs = sc_fault_start(array_merge(sc_greet_ehlo($caps), accept(1), accept(2), sc_quit()));
$m = sc_message();
$client = null;
$client = new SmtpCore\Client(sc_fault_options($fs), transcript: function (string $line) use (&$client, $m) {
    if (str_starts_with($line, 'C: DATA')) {
        $other = new SmtpCore\Client(sc_fault_options(['port' => 9]));
        foreach ([fn() => $client->sendMany([$m]), fn() => $m->subject('changed while sending'),
                  fn() => $other->sendMany([sc_message(), $m]), fn() => $other->send($m)] as $call) {
            try {
                $call();
            } catch (Error $e) {
                echo '  ', $e->getMessage(), "\n";
            }
        }
        throw new RuntimeException('from the callback');
    }
});
try {
    $client->sendMany([$m, sc_message()]);
} catch (RuntimeException $e) {
    echo '  ', get_class($e), ': ', $e->getMessage(), "\n";
}
$m->subject('changed afterwards');
$client = null;
echo '  server: ', sc_fault_finish($fs), "\n";

// No server: every message gets the connection failure.
$socket = stream_socket_server('tcp://127.0.0.1:0');
$port = (int)substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
fclose($socket);
$client = new SmtpCore\Client(sc_fault_options(['port' => $port]));
show($client->sendMany(['x' => sc_message(), 'y' => sc_message()]));

// Not a Message: a TypeError before anything is sent (no connection attempt).
$client = new SmtpCore\Client(sc_fault_options(['port' => $port]));
try {
    $client->sendMany([sc_message(), 'Subject: raw']);
} catch (TypeError $e) {
    echo $e->getMessage(), "\n";
}
var_dump($client->transcript(), $client->sendMany([]));
?>
--EXPECT--
  a: Result 2.0.0 queued as Q1
  b: Result 2.0.0 queued as Q2
  c: Result 2.0.0 queued as Q3
  7: ConnectException category=connect code=0 enhanced=NULL hint=yes
  e: ConnectException category=connect code=0 enhanced=NULL hint=yes
  f: ConnectException category=connect code=0 enhanced=NULL hint=yes
bool(true)
bool(true)
4 envelopes, pipelined: true
  server: DONE ok
  0: Result 2.0.0 queued as Q1
  1: UsageException category=usage code=0 enhanced=NULL hint=yes
  2: Result 2.0.0 queued as Q2
  server: DONE ok
  SmtpCore\Client::sendMany() cannot be called from the client's own transcript callback
  SmtpCore\Message cannot be changed while it is being sent
  SmtpCore\Message cannot be sent again while it is being sent
  SmtpCore\Message cannot be sent again while it is being sent
  RuntimeException: from the callback
  server: DONE ok
  x: ConnectException category=connect code=0 enhanced=NULL hint=yes
  y: ConnectException category=connect code=0 enhanced=NULL hint=yes
SmtpCore\Client::sendMany(): Argument #1 ($messages) must contain only SmtpCore\Message objects, string given
array(0) {
}
array(0) {
}
