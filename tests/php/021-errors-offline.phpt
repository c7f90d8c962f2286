--TEST--
smtpcore: errors before any SMTP exchange map to their exception classes with getters filled
--EXTENSIONS--
smtpcore
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';
use SmtpCore\Client;

function attempt(Client $c, ?SmtpCore\Message $m = null) {
    try {
        $c->send($m ?? sc_message());
        echo "sent?\n";
    } catch (SmtpCore\Exception $e) {
        echo sc_describe($e);
        return $e;
    }
}
// DNS: names under .invalid never resolve (no network needed).
$e = attempt(new Client(host: 'smtp.nosuch.invalid'));
var_dump(str_contains($e->getMessage(), 'smtp.nosuch.invalid'), $e->getServerMessage(), $e->getResult());
print_r($e->getTranscript());

// Connect: a port nobody listens on.
$s = stream_socket_server('tcp://127.0.0.1:0');
$port = (int)substr(strrchr(stream_socket_get_name($s, false), ':'), 1);
fclose($s);
$e = attempt(new Client(host: '127.0.0.1', port: $port, security: 'none', connectTimeout: 5));
var_dump($e instanceof SmtpCore\ConnectException, $e->getCode());

// Usage: nothing to connect to, a password without a user name, a message without From.
attempt(new Client());
attempt(new Client(host: '127.0.0.1', password: 'secret'));
attempt(new Client(host: '127.0.0.1', port: $port, security: 'none'), (new SmtpCore\Message())->to('b@example.test'));

// transcript: false keeps none.
$e = attempt(new Client(host: 'x.invalid', transcript: false));
var_dump($e->getTranscript());

// Exceptions made by hand have the defaults.
$e = new SmtpCore\AuthException('by hand', 535);
var_dump($e->getCategory(), $e->getSmtpCode(), $e->getCode(), $e->getEnhancedCode(), $e->getServerMessage(),
         $e->getHint(), $e->getTranscript(), $e->getResult());
var_dump((new SmtpCore\Exception('base'))->getCategory());
?>
--EXPECTF--
DnsException category=dns code=0 enhanced=NULL hint=yes
bool(true)
NULL
NULL
Array
(
    [0] => *  connecting to smtp.nosuch.invalid port 587
)
ConnectException category=connect code=0 enhanced=NULL hint=yes
bool(true)
int(0)
UsageException category=usage code=0 enhanced=NULL hint=%s
UsageException category=usage code=0 enhanced=NULL hint=%s
UsageException category=usage code=0 enhanced=NULL hint=%s
DnsException category=dns code=0 enhanced=NULL hint=yes
array(0) {
}
string(4) "auth"
int(0)
int(535)
NULL
NULL
NULL
array(0) {
}
NULL
string(0) ""
