--TEST--
smtpcore: every shared MIME vector (tests/vectors) renders to the same bytes as the C core
--EXTENSIONS--
smtpcore
--FILE--
<?php
/* Mirrors tests/vectors/vector_cli.py: attachments and inline parts are
 * written to files named `filename` and attached with the given type. */
$dir = __DIR__ . '/../vectors';
$work = sys_get_temp_dir() . '/smtpcore-vectors-' . getmypid();
register_shutdown_function(function () use ($work) {
    if (!is_dir($work)) {
        return;
    }
    $it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($work, FilesystemIterator::SKIP_DOTS),
                                        RecursiveIteratorIterator::CHILD_FIRST);
    foreach ($it as $f) {
        $f->isDir() ? rmdir($f->getPathname()) : unlink($f->getPathname());
    }
    rmdir($work);
});
$files = glob("$dir/*.json");
$bad = 0;
foreach ($files as $file) {
    $v = json_decode(file_get_contents($file), true, 512, JSON_THROW_ON_ERROR);
    $m = new SmtpCore\Message();
    $m->seed($v['seed']);
    if (isset($v['date'])) {
        $m->date($v['date']);
    }
    $m->from($v['from']);
    foreach (['to' => 'to', 'cc' => 'cc', 'bcc' => 'bcc', 'reply_to' => 'replyTo'] as $key => $method) {
        foreach ($v[$key] ?? [] as $address) {
            $m->$method($address);
        }
    }
    if (isset($v['subject'])) {
        $m->subject($v['subject']);
    }
    if (isset($v['text'])) {
        $m->text($v['text']);
    }
    if (isset($v['html'])) {
        $m->html($v['html']);
    }
    if (isset($v['calendar'])) {
        $m->calendar($v['calendar']);
    }
    foreach (['inline', 'attachments'] as $kind) {
        foreach ($v[$kind] ?? [] as $i => $part) {
            $d = "$work/{$v['name']}/$kind-$i";
            @mkdir($d, 0700, true);
            $path = "$d/{$part['filename']}";
            file_put_contents($path, base64_decode($part['data_base64']));
            if ($kind === 'inline') {
                $m->embed($path, $part['cid'], $part['content_type']);
            } else {
                $m->attach($path, null, $part['content_type']);
            }
        }
    }
    foreach ($v['headers'] ?? [] as [$name, $value]) {
        $m->header($name, $value);
    }
    $flags = $v['flags'] ?? [];
    $got = $m->toString(in_array('8bit', $flags, true), in_array('smtputf8', $flags, true));
    $want = file_get_contents("$dir/{$v['name']}.eml");
    if ($got !== $want) {
        $bad++;
        $at = strspn($got ^ $want, "\0");
        printf("%s differs at byte %d:\n  got  %s\n  want %s\n", $v['name'], $at,
               json_encode(substr($got, $at, 60)), json_encode(substr($want, $at, 60)));
    }
}
printf("%d vectors, %d differ\n", count($files), $bad);
--EXPECTF--
%d vectors, 0 differ
