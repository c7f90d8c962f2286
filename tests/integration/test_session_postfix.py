"""Whole sessions through the public C API (tests/integration/session_probe.c)
against the real Postfix: several messages per connection, recovery after a
refused transaction, DSN parameters, NOOP and RSET, and a message source that
fails half way (nothing may be delivered)."""
import os
import subprocess

import pytest

ALICE = "alice@example.test"
ALICE_PW = "correct horse battery"


def probe(probe_path, mta, scenario, port="submission", security="starttls", user=ALICE, extra=()):
    env = dict(os.environ, SMTPCORE_PASSWORD=ALICE_PW)
    argv = [probe_path, scenario, "--host", "localhost", "--port", str(mta.ports[port]),
            "--security", security, "--ca-file", mta.ca_file, *extra]
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


def batch_bytes(sender, to, i):
    """The bytes session_probe's batch scenario sends as message i."""
    return (b"From: <%s>\r\nTo: <%s>\r\nSubject: batch-%d\r\nMessage-ID: <batch-%d@example.test>\r\n\r\n"
            b"body of batch-%d\r\n.leading dot\r\n%s\r\n"
            % (sender.encode(), to.encode(), i, i, i, b"%0900d" % i))


def test_batch_pipelined_across_messages(mta, probe_path):
    """30 messages in one batch over PIPELINING + CHUNKING: each keeps its own
    outcome (an unknown user and a failing source in the middle change
    nothing for the others) and every accepted one arrives exactly once,
    byte for byte."""
    r, steps = probe(probe_path, mta, "batch")
    assert r.returncode == 0, r.stderr.decode()
    for i in range(30):
        status, rest = steps["batch%d" % i]
        if i == 10:
            assert (status, rest) == ("fail", ["recipient", "550", "5.1.1"])
        elif i == 20:
            assert status == "fail" and rest[0] == "local"
        else:
            assert status == "ok" and rest[0] == "250", (i, status, rest)
    assert steps["batch_accepted"] == ("ok", ["28"])
    for i in range(5):
        status, rest = steps["composed%d" % i]
        assert status == ("fail" if i == 2 else "ok"), (i, status, rest)
    assert steps["composed_accepted"] == ("ok", ["4"])
    got = mta.wait_for_messages("bob", 28)
    assert len(got) == 28
    by_subject = {}
    for raw in got:
        body = mta.strip_trace(raw)
        subject = body.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0]
        assert subject not in by_subject, "delivered twice: %r" % subject
        by_subject[subject] = body
    for i in range(30):
        if i in (10, 20):
            assert b"batch-%d" % i not in by_subject
            continue
        assert by_subject[b"batch-%d" % i] == batch_bytes(ALICE, "bob@example.test", i)
    composed = mta.wait_for_messages("carol", 4)
    assert sorted(m.split(b"Subject: ", 1)[1].split(b"\n", 1)[0] for m in composed) == [
        b"composed-0", b"composed-1", b"composed-3", b"composed-4"]
    assert not any(b"must never arrive" in m for m in mta.messages("bob"))


@pytest.mark.parametrize("port,extra", [("nochunk", ()), ("submission", ("--chunking", "0"))],
                         ids=["no-pipelining", "pipelined-data"])
def test_batch_with_data_and_a_dropped_connection(mta, probe_path, port, extra):
    """The same batch with DATA: one message at a time where the server offers
    no PIPELINING, the next envelope behind each end of data where it does.
    The failing source (DATA, after 354) can only be abandoned by dropping the
    connection, so the messages behind it are not sent and say so, and none
    of them is claimed."""
    r, steps = probe(probe_path, mta, "batch", port=port, extra=extra)
    assert r.returncode == 0, r.stderr.decode()
    for i in range(20):
        status, rest = steps["batch%d" % i]
        assert status == ("fail" if i == 10 else "ok"), (i, status, rest)
    assert steps["batch20"][0] == "fail" and steps["batch20"][1][0] == "local"
    for i in range(21, 30):
        assert steps["batch%d" % i][0] == "fail" and steps["batch%d" % i][1][0] == "connect"
    assert steps["batch_accepted"] == ("ok", ["19"])
    for i in range(5):
        assert steps["composed%d" % i][0] == "fail"
    got = mta.wait_for_messages("bob", 19)
    mta.wait_queue_empty(10)
    assert len(mta.messages("bob")) == 19
    subjects = {mta.strip_trace(m).split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0] for m in got}
    assert subjects == {b"batch-%d" % i for i in range(20) if i != 10}
