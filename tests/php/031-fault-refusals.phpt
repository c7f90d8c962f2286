--TEST--
smtpcore: refusals inside a transaction (sender, recipients, relay, size) and partial success
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_fault_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

$ENH = ['ENHANCEDSTATUSCODES'];
$rset = [['expect' => 'RSET'], ['send' => "250 2.0.0 Ok\r\n"]];

function run(string $name, array $script, SmtpCore\Message $m): void {
    $fs = sc_fault_start($script);
    $client = new SmtpCore\Client(sc_fault_options($fs));
    try {
        $r = $client->send($m);
        echo "$name: Result ok=", var_export($r->ok(), true), ' code=', $r->code(), ' enhanced=', $r->enhancedCode(),
             ' message=', $r->message(), "\n";
        echo '  accepted: ', json_encode($r->accepted()), "\n  refused: ", json_encode($r->refused()), "\n";
    } catch (SmtpCore\Exception $e) {
        echo "$name: ", sc_describe($e), '  ', $e->getMessage(), "\n";
        if ($r = $e->getResult()) {
            echo '  accepted: ', json_encode($r->accepted()), "\n  refused: ", json_encode($r->refused()), "\n";
            var_dump($r->ok());
        }
    }
    unset($client);
    echo '  server: ', sc_fault_finish($fs), "\n";
}

run('sender', array_merge(sc_greet_ehlo($ENH), [['expect' => 'MAIL FROM:<alice@example.test>'],
    ['send' => "553 5.7.1 <alice@example.test>: Sender address rejected: not owned by user alice\r\n"]], $rset, sc_quit()),
    sc_message());

run('recipients', array_merge(sc_greet_ehlo($ENH), [['expect' => 'MAIL FROM:'], ['send' => "250 2.1.0 Ok\r\n"],
    ['expect' => 'RCPT TO:<bob@example.test>'], ['send' => "550 5.1.1 <bob@example.test>: Recipient address rejected: User unknown\r\n"],
    ['expect' => 'RCPT TO:<carol@example.test>'], ['send' => "450 4.2.0 <carol@example.test>: Recipient address rejected: Greylisted\r\n"]],
    $rset, sc_quit()), sc_message('bob@example.test, carol@example.test'));

run('partial', array_merge(sc_greet_ehlo($ENH), [['expect' => 'MAIL FROM:'], ['send' => "250 2.1.0 Ok\r\n"],
    ['expect' => 'RCPT TO:<bob@example.test>'], ['send' => "250 2.1.5 Ok\r\n"],
    ['expect' => 'RCPT TO:<nosuchuser@example.test>'], ['send' => "550 5.1.1 <nosuchuser@example.test>: Recipient address rejected: User unknown\r\n"],
    ['expect' => 'DATA'], ['send' => "354 End data with <CR><LF>.<CR><LF>\r\n"], ['read_data' => true],
    ['send' => "250 2.0.0 Ok: queued as 4F00D\r\n"]], sc_quit()),
    sc_message(['bob@example.test', 'nosuchuser@example.test']));

run('relay', array_merge(sc_greet_ehlo($ENH), [['expect' => 'MAIL FROM:'], ['send' => "250 2.1.0 Ok\r\n"],
    ['expect' => 'RCPT TO:'], ['send' => "554 5.7.1 <x@elsewhere.test>: Relay access denied\r\n"]], $rset, sc_quit()),
    sc_message('x@elsewhere.test'));

// The server announces SIZE: a bigger message is not even offered.
run('size-announced', array_merge(sc_greet_ehlo(['SIZE 100']), sc_quit()), sc_message());

run('size-refused', array_merge(sc_greet_ehlo($ENH), [['expect' => 'MAIL FROM:'], ['send' => "250 2.1.0 Ok\r\n"],
    ['expect' => 'RCPT TO:'], ['send' => "250 2.1.5 Ok\r\n"], ['expect' => 'DATA'], ['send' => "354 go\r\n"],
    ['read_data' => true], ['send' => "552 5.3.4 Message size exceeds fixed limit\r\n"]], $rset, sc_quit()), sc_message());
?>
--EXPECTF--
sender: SenderRefusedException category=sender code=553 enhanced='5.7.1' hint=yes
  %s
  accepted: []
  refused: {"bob@example.test":{"code":0,"enhanced":null,"message":""}}
bool(false)
  server: DONE ok
recipients: RecipientsRefusedException category=recipient code=550 enhanced='5.1.1' hint=yes
  %s
  accepted: []
  refused: {"bob@example.test":{"code":550,"enhanced":"5.1.1","message":"5.1.1 <bob@example.test>: Recipient address rejected: User unknown"},"carol@example.test":{"code":450,"enhanced":"4.2.0","message":"4.2.0 <carol@example.test>: Recipient address rejected: Greylisted"}}
bool(false)
  server: DONE ok
partial: Result ok=false code=250 enhanced=2.0.0 message=2.0.0 Ok: queued as 4F00D
  accepted: ["bob@example.test"]
  refused: {"nosuchuser@example.test":{"code":550,"enhanced":"5.1.1","message":"5.1.1 <nosuchuser@example.test>: Recipient address rejected: User unknown"}}
  server: DONE ok
relay: RelayException category=relay code=554 enhanced='5.7.1' hint=yes
  %s
  accepted: []
  refused: {"x@elsewhere.test":{"code":554,"enhanced":"5.7.1","message":"5.7.1 <x@elsewhere.test>: Relay access denied"}}
bool(false)
  server: DONE ok
size-announced: SizeException category=size code=0 enhanced=NULL hint=yes
  %s
  server: DONE ok
size-refused: SizeException category=size code=552 enhanced='5.3.4' hint=yes
  %s
  accepted: []
  refused: {"bob@example.test":{"code":250,"enhanced":"2.1.5","message":"2.1.5 Ok"}}
bool(false)
  server: DONE ok
