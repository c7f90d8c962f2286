"""A 256 MB attachment goes to Postfix with the sender's memory staying near
what a small message needs: attachments are read and encoded chunk by chunk,
never held whole. The delivered attachment is checked by its SHA-256."""
import base64
import hashlib
import os
import re
import subprocess
import time

import pytest

from servers.mta import TestMTA

ALICE_PW = "correct horse battery"
SIZE = 256 * 1024 * 1024


@pytest.fixture(scope="module")
def big_mta(tmp_path_factory):
    with TestMTA(tmp_path_factory.mktemp("bigmta"), message_size_limit=512 * 1024 * 1024) as m:
        yield m


def run_measured(argv, env):
    """Run argv with --stats; return (exit code, stderr, peak RSS in KiB as the CLI reports it)."""
    r = subprocess.run(argv + ["--stats"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    m = re.search(rb"peak_rss_kib=(\d+)", r.stderr)
    return r.returncode, r.stderr, int(m.group(1)) if m else None


def send(cli_path, mta, tmp_path, attachment):
    env = dict(os.environ, SMTPCORE_PASSWORD=ALICE_PW)
    argv = [cli_path, "send", "--host", "localhost", "--port", str(mta.ports["submission"]), "--ca-file",
            mta.ca_file, "--user", "alice@example.test", "--from", "alice@example.test", "--to", "bob@example.test",
            "--subject", "big", "--text", "see attachment", "-v"]
    if attachment:
        argv += ["--attach", str(attachment)]
    return run_measured(argv, env)


def attachment_sha256(path):
    """Stream the delivered Maildir file: decode the base64 attachment part line by line."""
    h = hashlib.sha256()
    state = "headers"
    boundary = None
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            if state == "headers":
                m = re.search(rb'boundary="([^"]+)"', line)
                if m and boundary is None:
                    boundary = b"--" + m.group(1)
                if line.lower().startswith(b"content-disposition: attachment"):
                    state = "part-headers"
            elif state == "part-headers":
                if line == b"":
                    state = "body"
            elif state == "body":
                if line.startswith(boundary):
                    break
                h.update(base64.b64decode(line))
    return h.hexdigest()


def test_256_mb_attachment_with_flat_memory(cli_path, big_mta, tmp_path):
    blob = tmp_path / "big.bin"
    digest = hashlib.sha256()
    chunk = hashlib.sha512(b"seed").digest() * 16384  # 1 MiB of varied bytes
    with open(blob, "wb") as f:
        for i in range(SIZE // len(chunk)):
            block = bytes([i & 0xFF]) + chunk[1:]
            f.write(block)
            digest.update(block)

    rc, err, small_rss = send(cli_path, big_mta, tmp_path, None)
    assert rc == 0, err.decode()
    rc, err, big_rss = send(cli_path, big_mta, tmp_path, blob)
    assert rc == 0, err.decode()
    # SIZE= announced the exact size, computed without reading the file.
    size = int(re.search(rb"SIZE=(\d+)", err).group(1))
    print("peak RSS: small message %d KiB, 256 MB attachment %d KiB" % (small_rss, big_rss))
    assert big_rss < small_rss + 4 * 1024, (small_rss, big_rss)

    # Read the delivered file from disk as a stream (too big to load whole).
    box = os.path.join(big_mta.maildir, "bob", "new")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(os.listdir(box) if os.path.isdir(box) else []) < 2:
        time.sleep(0.2)
    assert len(os.listdir(box)) == 2, big_mta.log_tail(20)
    path = max((os.path.join(box, n) for n in os.listdir(box)), key=os.path.getsize)
    assert attachment_sha256(path) == digest.hexdigest()
    with open(path, "rb") as f:
        head = f.read(4096)
    # The delivered file starts with Postfix's trace headers and has LF line
    # ends; SIZE= was the size of the CRLF message we sent.
    trace = head.index(b"\nDate: ") + 1
    with open(path, "rb") as f:
        message_lines = sum(1 for _ in f) - head[:trace].count(b"\n")
    assert os.path.getsize(path) - trace + message_lines == size
