--TEST--
smtpcore: object lifetimes (constructing twice, subclasses, freeing in any order, open connection at shutdown)
--EXTENSIONS--
smtpcore
--SKIPIF--
<?php require __DIR__ . '/smtpcore_test.inc'; sc_fault_skipif(); ?>
--FILE--
<?php
require __DIR__ . '/smtpcore_test.inc';

class LazyClient extends SmtpCore\Client {
    public function __construct() {} // never calls the parent: a default configuration
}
try {
    (new LazyClient())->send(sc_message());
} catch (SmtpCore\UsageException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}

$fs = sc_fault_start(['script' => array_merge(sc_greet_ehlo(), sc_accept_mail(), sc_quit()), 'max_connections' => 2]);

// Constructing again replaces the configuration and closes the connection.
$c = new SmtpCore\Client(host: 'first.invalid');
$c->__construct(sc_fault_options($fs));
$m = sc_message();
$r = $c->send($m);
unset($m);                       // the message goes first
$c->__construct(sc_fault_options($fs, ['transcript' => false]));
var_dump($c->transcript());
unset($c);                       // then the client: the Result outlives both
var_dump($r->ok(), $r->accepted());

// An exception keeps its result and transcript after the client is gone.
function failing(): SmtpCore\Exception {
    $c = new SmtpCore\Client(host: 'gone.invalid');
    try {
        $c->send(sc_message());
    } catch (SmtpCore\Exception $e) {
        return $e;
    }
}
$e = failing();
echo get_class($e), ' ', count($e->getTranscript()), "\n";
var_dump($e->getCategory(), strlen($e->getHint()) > 10, $e->getTranscript()[0]);

// A connection still open at shutdown is closed (QUIT) when PHP frees the client.
$kept = new SmtpCore\Client(sc_fault_options($fs));
$kept->send(sc_message());
register_shutdown_function(function () use ($fs) {
    $GLOBALS['kept'] = null;
    echo sc_fault_finish($fs), "\n";
});
echo "end of script\n";
?>
--EXPECT--
SmtpCore\UsageException: no host given
array(0) {
}
bool(true)
array(1) {
  [0]=>
  string(16) "bob@example.test"
}
SmtpCore\DnsException 1
string(3) "dns"
bool(true)
string(38) "*  connecting to gone.invalid port 587"
end of script
DONE ok
