--TEST--
smtpcore: attach() and embed() honour open_basedir and refuse stream wrappers
--EXTENSIONS--
smtpcore
--INI--
open_basedir={PWD}
--FILE--
<?php
$m = (new SmtpCore\Message())->from('a@example.test')->to('b@example.test');
$m->attach(__FILE__);
echo "inside: ok\n";
foreach (['attach' => ['/etc/passwd'], 'embed' => ['/etc/passwd', 'x@y'], 'attach ' => [__DIR__ . '/../../../../etc/passwd']] as $what => $args) {
    try {
        $what = trim($what);
        $m->$what(...$args);
        echo "$what: no exception\n";
    } catch (SmtpCore\LocalException $e) {
        echo "$what: ", $e->getMessage(), "\n";
    }
}
foreach (['phar://' . __DIR__ . '/x.phar/a', 'file:///etc/passwd', 'php://memory'] as $url) {
    try {
        $m->attach($url);
    } catch (ValueError $e) {
        echo $e->getMessage(), "\n";
    }
}
var_dump(substr_count($m->toString(), 'Content-Disposition: attachment'));
?>
--EXPECTF--
inside: ok
attach: cannot attach '/etc/passwd': open_basedir restriction in effect (the file is not within the allowed paths)
embed: cannot attach '/etc/passwd': open_basedir restriction in effect (the file is not within the allowed paths)
attach: cannot attach '%s/../../../../etc/passwd': open_basedir restriction in effect (the file is not within the allowed paths)
SmtpCore\Message::attach(): Argument #1 ($path) is invalid: attachments are read from plain files, not URLs
SmtpCore\Message::attach(): Argument #1 ($path) is invalid: attachments are read from plain files, not URLs
SmtpCore\Message::attach(): Argument #1 ($path) is invalid: attachments are read from plain files, not URLs
int(1)
