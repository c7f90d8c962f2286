--TEST--
smtpcore: the extension loads; classes, functions and the exception hierarchy
--EXTENSIONS--
smtpcore
--FILE--
<?php
var_dump(extension_loaded('smtpcore'));
var_dump(SmtpCore\version() === phpversion('smtpcore'));
var_dump((bool)preg_match('/^\d+\.\d+\.\d+/', SmtpCore\version()));

foreach (['Message', 'Client', 'Result'] as $c) {
    echo $c, ': ', class_exists("SmtpCore\\$c") ? 'yes' : 'no', "\n";
}
$categories = [];
foreach (['ConnectException', 'DnsException', 'TlsException', 'AuthException', 'SenderRefusedException',
          'RecipientsRefusedException', 'SizeException', 'RelayException', 'TimeoutException',
          'ProtocolException', 'LocalException', 'UsageException'] as $c) {
    $class = "SmtpCore\\$c";
    $e = new $class('x');
    $categories[] = $e->getCategory();
    if (get_parent_class($e) !== 'SmtpCore\Exception' || !($e instanceof \Exception)) {
        echo "$c: wrong hierarchy\n";
    }
}
echo implode(' ', $categories), "\n";
var_dump(get_parent_class('SmtpCore\Exception'));
var_dump((new ReflectionClass('SmtpCore\Result'))->isFinal());
var_dump((new ReflectionClass('SmtpCore\Result'))->getConstructor()->isPrivate());
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
Message: yes
Client: yes
Result: yes
connect dns tls auth sender recipient size relay timeout protocol local usage
string(9) "Exception"
bool(true)
bool(true)
