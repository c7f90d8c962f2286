--TEST--
smtpcore: Client options as an array or named arguments; bad ones raise TypeError/ValueError naming them
--EXTENSIONS--
smtpcore
--INI--
zend.exception_ignore_args=0
--FILE--
<?php
use SmtpCore\Client;

function t(callable $f) {
    try {
        $f();
        echo "ok\n";
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
// Accepted forms.
t(fn() => new Client());
t(fn() => new Client(['host' => 'smtp.example.test', 'port' => 587, 'username' => 'u', 'password' => 'p']));
t(fn() => new Client(host: 'smtp.example.test', port: 465, security: 'tls', timeout: 2.5, connectTimeout: 1));
t(fn() => new Client(['port' => '2525', 'timeout' => '0.5', 'verify' => 'yes', 'pipelining' => 0, 'host' => null]));
t(fn() => new Client(['transcript' => false], transcript: fn($line) => null));
// Refused.
t(fn() => new Client(['hots' => 'x']));
t(fn() => new Client(['smtp.example.test']));
t(fn() => new Client(['port' => 'abc']));
t(fn() => new Client(['port' => 70000]));
t(fn() => new Client(port: 70000));
t(fn() => new Client(port: 'x'));
t(fn() => new Client(timeout: 0));
t(fn() => new Client(['connectTimeout' => -1]));
t(fn() => new Client(['timeout' => []]));
t(fn() => new Client(security: 'ssl3'));
t(fn() => new Client(['security' => 'bogus']));
t(fn() => new Client(ehloName: 'not a name'));
t(fn() => new Client(ehloName: "x.example\r\nMAIL FROM:<evil@x>"));
t(fn() => new Client(host: "smtp.example.test\0.evil"));
t(fn() => new Client(authMechanism: 'NTLM'));
t(fn() => new Client(['verify' => 'maybe']));
t(fn() => new Client(['verify' => 2]));
t(fn() => new Client(['allowPlaintextAuth' => []]));
t(fn() => new Client(transcript: 'not_a_function'));
t(fn() => new Client(['transcript' => 42]));
t(fn() => new Client(['username' => ['x']]));

// Secrets stay out of stack traces.
try {
    new Client(['password' => 'hunter2-array', 'port' => -1], password: 'hunter2-named');
} catch (ValueError $e) {
    echo $e->getMessage(), "\n";
    var_dump(str_contains($e->getTraceAsString(), 'hunter2'));
}

$c = new Client(host: 'x.invalid');
t(fn() => clone $c);
t(fn() => serialize($c));
t(fn() => new SmtpCore\Result());
?>
--EXPECT--
ok
ok
ok
ok
ok
ValueError: SmtpCore\Client::__construct(): Argument #1 ($options) contains unknown option "hots"
ValueError: SmtpCore\Client::__construct(): Argument #1 ($options) must have string keys (option names)
TypeError: SmtpCore\Client::__construct(): Argument #1 ($options) option "port" must be of type int, string given
ValueError: SmtpCore\Client::__construct(): Argument #1 ($options) option "port" must be between 0 and 65535
ValueError: SmtpCore\Client::__construct(): Argument #3 ($port) must be between 0 and 65535
TypeError: SmtpCore\Client::__construct(): Argument #3 ($port) must be of type ?int, string given
ValueError: SmtpCore\Client::__construct(): Argument #9 ($timeout) must be a number of seconds greater than 0 and at most 86400
ValueError: SmtpCore\Client::__construct(): Argument #1 ($options) option "connectTimeout" must be a number of seconds greater than 0 and at most 86400
TypeError: SmtpCore\Client::__construct(): Argument #1 ($options) option "timeout" must be of type int|float, array given
ValueError: SmtpCore\Client::__construct(): Argument #4 ($security) is invalid: invalid security 'ssl3' (starttls, tls, opportunistic or none)
ValueError: SmtpCore\Client::__construct(): Argument #1 ($options) option "security" is invalid: invalid security 'bogus' (starttls, tls, opportunistic or none)
ValueError: SmtpCore\Client::__construct(): Argument #14 ($ehloName) is invalid: invalid EHLO name 'not a name' (a domain name or an address literal)
ValueError: SmtpCore\Client::__construct(): Argument #14 ($ehloName) is invalid: option 'ehlo_name' must not contain CR or LF
ValueError: SmtpCore\Client::__construct(): Argument #2 ($host) must not contain any null bytes
ValueError: SmtpCore\Client::__construct(): Argument #15 ($authMechanism) is invalid: unknown AUTH mechanism 'NTLM' (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, XOAUTH2)
ValueError: SmtpCore\Client::__construct(): Argument #1 ($options) option "verify" is invalid: option 'tls_verify' takes 1 or 0, not 'maybe'
TypeError: SmtpCore\Client::__construct(): Argument #1 ($options) option "verify" must be of type bool, int given
TypeError: SmtpCore\Client::__construct(): Argument #1 ($options) option "allowPlaintextAuth" must be of type bool, array given
TypeError: SmtpCore\Client::__construct(): Argument #17 ($transcript) must be of type callable|bool|null, string given
TypeError: SmtpCore\Client::__construct(): Argument #1 ($options) option "transcript" must be of type callable|bool|null, int given
TypeError: SmtpCore\Client::__construct(): Argument #1 ($options) option "username" must be of type string, array given
SmtpCore\Client::__construct(): Argument #1 ($options) option "port" must be between 0 and 65535
bool(false)
Error: Trying to clone an uncloneable object of class SmtpCore\Client
Exception: Serialization of 'SmtpCore\Client' is not allowed
Error: Call to private SmtpCore\Result::__construct() from global scope
