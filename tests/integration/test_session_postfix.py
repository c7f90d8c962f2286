"""Whole sessions through the public C API (tests/integration/session_probe.c)
against the real Postfix: several messages per connection, recovery after a
refused transaction, DSN parameters, NOOP and RSET, and a message source that
fails half way (nothing may be delivered)."""
import os
import subprocess

import pytest

ALICE = "alice@example.test"
ALICE_PW = "correct horse battery"


def probe(probe_path, mta, scenario, port="submission", security="starttls", user=ALICE):
    env = dict(os.environ, SMTPCORE_PASSWORD=ALICE_PW)
    argv = [probe_path, scenario, "--host", "localhost", "--port", str(mta.ports[port]),
            "--security", security, "--ca-file", mta.ca_file]
    if user:
        argv += ["--user", user]
    r = subprocess.run(argv, capture_output=True, env=env, timeout=60)
    steps = {}
    for line in r.stdout.decode().splitlines():
        name, status, *rest = line.split(" ")
        steps[name] = (status, rest)
    return r, steps


@pytest.fixture(autouse=True)
def clean(mta):
    mta.clear()


def test_many_messages_per_session_with_recovery(mta, probe_path):
    r, steps = probe(probe_path, mta, "multi")
    assert r.returncode == 0, r.stderr.decode()
    assert steps["open"][0] == "ok"
    assert steps["send1"][0] == "ok"
    assert steps["send2"] == ("fail", ["recipient", "550", "5.1.1"])
    assert steps["send3"][0] == "ok"
    assert steps["noop"][0] == "ok"
    assert steps["rset"][0] == "ok"
    assert steps["send4"][0] == "ok"
    for box, tag in (("bob", b"multi-1"), ("carol", b"multi-3"), ("dave", b"multi-4")):
        (got,) = mta.wait_for_messages(box, 1)
        assert tag in got
    # send3 carried NOTIFY, ORCPT, RET and ENVID; Postfix checks their syntax
    # (501 5.5.4 otherwise), so its acceptance shows they were well formed.


@pytest.mark.parametrize("port,expect_after", [("submission", "ok"), ("nochunk", "fail")])
def test_failing_source_delivers_nothing(mta, probe_path, port, expect_after):
    r, steps = probe(probe_path, mta, "source_fail", port=port)
    assert r.returncode == 0, r.stderr.decode()
    assert steps["failing"][0] == "fail" and steps["failing"][1][0] == "local"
    # BDAT (submission offers CHUNKING): RSET discards the chunks, the session goes on.
    # DATA (nochunk): after 354 only dropping the connection is safe; the session is dead.
    assert steps["after"][0] == expect_after
    if expect_after == "ok":
        (got,) = mta.wait_for_messages("erin", 1)
        assert b"after-failure" in got
    else:
        mta.wait_queue_empty(10)
    assert not any(b"must never arrive" in m for m in mta.messages("erin"))
