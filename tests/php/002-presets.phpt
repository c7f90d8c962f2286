--TEST--
smtpcore: presets() lists the provider presets
--EXTENSIONS--
smtpcore
--FILE--
<?php
$p = SmtpCore\presets();
var_dump(count($p) >= 10);
echo implode(',', array_keys($p['gmail'])), "\n";
echo $p['gmail']['host'], ' ', $p['gmail']['port'], ' ', $p['gmail']['security'], "\n";
foreach ($p as $name => $preset) {
    if ($preset['name'] !== $name || !is_int($preset['port']) || !in_array($preset['security'], ['starttls', 'tls', 'opportunistic', 'none'], true)) {
        echo "bad preset $name\n";
    }
}
var_dump(str_contains($p['amazon-ses']['host'], '{region}'));
// A preset sets host, port and security; explicit options win.
$c = new SmtpCore\Client(preset: 'gmail', username: 'me@gmail.com', password: 'x');
$c = new SmtpCore\Client(['preset' => 'amazon-ses', 'region' => 'eu-west-1', 'port' => 2587]);
try {
    new SmtpCore\Client(preset: 'nosuch');
} catch (ValueError $e) {
    echo $e->getMessage(), "\n";
}
--EXPECT--
bool(true)
name,label,host,port,security,usernameHint
smtp.gmail.com 587 starttls
bool(true)
SmtpCore\Client::__construct(): Argument #7 ($preset) is invalid: unknown preset 'nosuch'
