"""python -m smtpcore send|check: the command line over the Python API (exit
codes and output as the C tool's)."""
import os
import subprocess
import sys

import pytest

from pyhelpers import ALICE, ALICE_PW, BOB


def run(*args, password=None, input=None):
    env = dict(os.environ)
    env.pop("SMTPCORE_PASSWORD", None)
    if password is not None:
        env["SMTPCORE_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "smtpcore"] + [str(a) for a in args], input=input,
                          capture_output=True, env=env, timeout=60)


@pytest.fixture
def conn(mta):
    return ["--host", "localhost", "--port", mta.ports["submission"], "--ca-file", mta.ca_file, "--user", ALICE]


def test_check(conn):
    r = run("check", *conn, password=ALICE_PW)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    assert "Capabilities before STARTTLS:" in out and "  STARTTLS" in out
    assert "TLS: TLSv1.3" in out and "AUTH: SCRAM-SHA-256 succeeded" in out and out.endswith("OK\n")


def test_check_wrong_password(conn):
    r = run("check", *conn, password="wrong")
    err = r.stderr.decode()
    assert r.returncode == 14
    assert "category: auth" in err and "reply code: 535" in err and "enhanced code: 5.7.8" in err
    assert "hint: " in err and "C: AUTH SCRAM-SHA-256 <redacted>" in err and "wrong" not in err.split("Transcript")[1]


def test_send_composed_with_attachment_and_partial_failure(clean, conn, tmp_path):
    att = tmp_path / "notes.txt"
    att.write_text("attached\n")
    r = run("send", *conn, "--from", "Alice <%s>" % ALICE, "--to", BOB, "--to", "nosuchuser@example.test",
            "--subject", "from the python cli", "--text", "hello", "--attach", att, "--attach-as", "renamed.txt",
            password=ALICE_PW)
    out = r.stdout.decode()
    assert r.returncode == 3, r.stderr.decode()
    assert "accepted <%s> 250" % BOB in out and "refused  <nosuchuser@example.test> 550" in out
    assert out.splitlines()[-1].startswith("sent: 250 2.0.0 Ok")
    got = clean.wait_for_messages("bob", 1)[0]
    assert b"Subject: from the python cli" in got and b"filename=renamed.txt" in got


def test_send_raw_from_stdin(clean, conn):
    r = run("send", *conn, "--from", ALICE, "--to", BOB, "-v", password=ALICE_PW,
            input=b"Subject: stdin\n\n.dot\nbody\n")
    assert r.returncode == 0, r.stderr.decode()
    assert "Transcript (passwords redacted):" in r.stdout.decode()
    got = clean.strip_trace(clean.wait_for_messages("bob", 1)[0])
    assert got == b"Subject: stdin\r\n\r\n.dot\r\nbody\r\n"


def test_print_and_bad_arguments(tmp_path):
    r = run("send", "--print", "--seed", 1, "--from", ALICE, "--to", BOB, "--subject", "p", "--text", "x")
    assert r.returncode == 0 and r.stdout.startswith(b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nFrom: ")
    assert run("send", "--from", ALICE).returncode == 2              # no --to
    assert run("send", "--attach-as", "x", "--from", ALICE).returncode == 2
    assert run("bogus").returncode == 2
    assert run("send", "--print", "--from", "not an address", "--to", BOB).returncode == 22
    assert run("send", "--host", "127.0.0.1", "--port", 9, "--security", "none", "--from", ALICE, "--to", BOB,
               input=b"Subject: x\n\nx\n").returncode == 11
    assert run("version").stdout.decode().startswith("smtpcore 0.1.0")
    assert b"gmail" in run("presets").stdout
