"""Client.send_many / send_raw_many: many messages over one connection,
pipelined across messages. Each message gets its own outcome, in order (a
SendResult, or the exception a single send would raise); a refused message
does not stop the others; a lost connection fails the rest and claims
nothing; without PIPELINING the messages go one at a time."""
import io
import threading
import time

import pytest

import smtpcore
from faultserver.faultserver import FaultServer, greet_ehlo, quit_steps
from pyhelpers import ALICE, BOB

CAROL = "carol@example.test"
CAPS = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]


def numbered(i, to=BOB, tag="batch"):
    return smtpcore.Message(from_="Alice <%s>" % ALICE, to=to, subject="%s #%d" % (tag, i),
                            text="Message number %d.\n" % i, seed=1000 + i)


def mail_order(lines):
    """Indexes of the client's MAIL commands and of the server's replies to each message's data."""
    mails = [i for i, line in enumerate(lines) if line.startswith("C: MAIL FROM:")]
    finals = [i for i, line in enumerate(lines) if line.startswith("S: 250 2.0.0") and "queued as" in line]
    return mails, finals


# ---------------------------------------------------------------- the real Postfix

def test_fifty_messages_are_delivered_once_each(clean, submission):
    msgs = [numbered(i) for i in range(50)]
    with smtpcore.Client(transcript=True, **submission) as client:
        results = client.send_many(msgs)
        lines = client.transcript
    assert len(results) == 50
    assert all(isinstance(r, smtpcore.SendResult) and r.ok and r.code == 250 for r in results), results
    assert len({r.message for r in results}) == 50  # a queue id each
    assert sum(line.startswith("*  connecting") for line in lines) == 1
    clean.wait_for_messages("bob", 50)
    clean.wait_queue_empty()
    got = sorted(clean.strip_trace(m) for m in clean.messages("bob"))
    assert got == sorted(m.as_bytes(eight_bit=True) for m in msgs)  # each exactly once, byte for byte


def test_envelopes_are_pipelined_behind_the_previous_message(clean, submission):
    with smtpcore.Client(transcript=True, **submission) as client:
        results = client.send_many([numbered(i, tag="pipelined") for i in range(3)])
        assert "PIPELINING" in client.info["capabilities"]
        lines = client.transcript
    assert all(r.ok for r in results)
    mails, finals = mail_order(lines)
    assert len(mails) == 3 and len(finals) == 3
    assert mails[1] < finals[0], "\n".join(lines)  # message 2's MAIL went out before message 1's reply
    clean.wait_for_messages("bob", 3)


@pytest.mark.parametrize("port, options", [
    ("submission", {"pipelining": False}),
    ("submission", {"pipeline_depth": 1}),   # CHUNKING offered, but one message in flight
    ("nochunk", {}),                         # the server offers neither PIPELINING nor CHUNKING
])
def test_one_message_at_a_time_without_pipelining(clean, mta, submission, port, options):
    submission["port"] = mta.ports[port]
    msgs = [numbered(i, tag="serial") for i in range(4)]
    with smtpcore.Client(transcript=True, **options, **submission) as client:
        results = client.send_many(msgs)
        lines = client.transcript
    assert [r.ok for r in results] == [True] * 4
    mails, finals = mail_order(lines)
    assert len(mails) == 4 and len(finals) == 4
    for k in range(3):
        assert finals[k] < mails[k + 1], "\n".join(lines)  # each reply before the next MAIL
    got = sorted(clean.strip_trace(m) for m in clean.wait_for_messages("bob", 4))
    assert got == sorted(m.as_bytes(eight_bit=True) for m in msgs)


def test_unknown_recipient_in_the_middle_fails_alone(clean, mta):
    msgs = [numbered(i, to="nosuchuser@example.test" if i == 2 else BOB, tag="middle") for i in range(5)]
    with smtpcore.Client("localhost", mta.ports["mx"], ca_file=mta.ca_file) as client:
        results = client.send_many(msgs)
        assert client.connected
    e = results[2]
    assert isinstance(e, smtpcore.RecipientsRefused) and e.category == "recipient"
    assert (e.code, e.enhanced_code) == (550, "5.1.1") and "User unknown" in e.server_message and e.hint
    assert list(e.result.refused) == ["nosuchuser@example.test"] and e.result.accepted == []
    assert e.transcript and any(line.startswith("S: 550 5.1.1") for line in e.transcript)
    assert [r.ok for i, r in enumerate(results) if i != 2] == [True] * 4
    got = sorted(clean.strip_trace(m) for m in clean.wait_for_messages("bob", 4))
    assert got == sorted(m.as_bytes(eight_bit=True) for i, m in enumerate(msgs) if i != 2)


def test_return_exceptions_false_raises_the_first_failure_after_the_batch(clean, mta):
    msgs = [numbered(0, to=CAROL), numbered(1, to="nosuchuser@example.test"), numbered(2, to=CAROL)]
    with smtpcore.Client("localhost", mta.ports["mx"], ca_file=mta.ca_file) as client:
        with pytest.raises(smtpcore.RecipientsRefused) as info:
            client.send_many(msgs, return_exceptions=False)
    e = info.value
    assert e.batch_index == 1 and e.batch_results[1] is e
    assert e.batch_results[0].ok and e.batch_results[2].ok  # the whole batch was still sent
    clean.wait_for_messages("carol", 2)


def test_send_raw_many_bytes_files_and_a_bad_envelope(clean, submission, tmp_path):
    first = b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: raw one\r\n\r\n.dot line\r\n"
    path = tmp_path / "two.eml"
    path.write_bytes(b"From: alice@example.test\r\nSubject: raw two\r\n\r\n" + b"line\r\n" * 20000)
    with smtpcore.Client(**submission) as client, open(path, "rb") as f:
        results = client.send_raw_many([
            (first, ALICE, BOB),
            (b"Subject: never\r\n\r\nx\r\n", ALICE, ["bob@example.test>\r\nRCPT TO:<evil@example.test"]),
            (f, ALICE, [BOB, CAROL]),
        ])
    assert results[0].ok and results[2].ok and results[2].accepted == [BOB, CAROL]
    assert isinstance(results[1], smtpcore.UsageError)
    got = sorted(clean.strip_trace(m) for m in clean.wait_for_messages("bob", 2))
    assert got == sorted([first, path.read_bytes()])
    assert clean.strip_trace(clean.wait_for_messages("carol", 1)[0]) == path.read_bytes()


# ---------------------------------------------------------------- the scripted fault server

def accept(n, final="250 2.0.0 queued as Q%d\r\n"):
    """One pipelined DATA transaction (the envelope arrives in one write)."""
    return [{"expect": "MAIL"}, {"expect": "RCPT"}, {"expect": "DATA"},
            {"send": "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n"}, {"read_data": True}, {"send": final % n}]


def accept_bdat(n):
    """One pipelined BDAT transaction; the client resets between pipelined transactions."""
    rset = [{"expect": "RSET"}, {"send": "250 2.0.0 ok\r\n"}] if n > 1 else []
    return rset + [{"expect": "MAIL"}, {"expect": "RCPT"}, {"read_bdat": True, "until_last": True},
            {"send": "250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.0.0 queued as Q%d\r\n" % n}]


def fault_client(srv, **kw):
    return smtpcore.Client("127.0.0.1", srv.port, security="none", timeout=5, **kw)


@pytest.mark.parametrize("chunking", [False, True])
def test_connection_dropped_after_the_third_reply(chunking):
    if chunking:
        script = greet_ehlo(CAPS + ["CHUNKING"]) + accept_bdat(1) + accept_bdat(2) + accept_bdat(3)
    else:  # message 4's envelope went out behind message 3's data: read it, then hang up
        script = greet_ehlo(CAPS) + accept(1) + accept(2) + accept(3) + [
            {"expect": "MAIL"}, {"expect": "RCPT"}, {"expect": "DATA"}]
    with FaultServer(script + [{"close": True}]) as srv:
        with fault_client(srv) as c:
            results = c.send_many([numbered(i) for i in range(6)])
            assert not c.connected  # the dead session was given up: the next send opens another
        srv.assert_ok(timeout=5)
    assert [r.message for r in results[:3]] == ["2.0.0 queued as Q%d" % n for n in (1, 2, 3)]
    assert all(r.ok for r in results[:3])
    for e in results[3:]:
        assert isinstance(e, smtpcore.ConnectError) and e.category == "connect", repr(e)
        assert e.result is None or (not e.result.ok and not e.result.accepted)  # nothing claimed


def test_dropped_idle_connection_is_replaced_for_the_batch():
    first = greet_ehlo(CAPS) + accept(1) + [{"close": True}]
    second = greet_ehlo(CAPS) + accept(2) + accept(3) + quit_steps()
    srv = FaultServer(first, per_connection=[first, second], max_connections=2)
    with srv:
        with fault_client(srv) as c:
            assert c.send(numbered(1)).ok
            time.sleep(0.2)  # the server has closed by now
            results = c.send_many([numbered(2), numbered(3)])
        srv.assert_ok(timeout=5)
        assert len(srv.conns) == 2
    assert [r.message for r in results] == ["2.0.0 queued as Q2", "2.0.0 queued as Q3"]


def test_refused_connection_is_every_entry():
    c = smtpcore.Client("127.0.0.1", 9, security="none")  # nothing listens there
    results = c.send_many([numbered(0), numbered(1)])
    assert all(isinstance(e, smtpcore.ConnectError) for e in results)
    with pytest.raises(smtpcore.ConnectError):
        c.send_many([numbered(0)], return_exceptions=False)


# ---------------------------------------------------------------- the sink: locking, sources, arguments

@pytest.mark.parametrize("chunking", [False, True])
def test_same_message_twice_and_a_failing_file(sink_factory, chunking):
    sink = sink_factory(chunking=chunking)

    class Bad:
        def read(self, n):
            raise KeyError("boom")

    msg = numbered(0)
    with smtpcore.Client("127.0.0.1", sink.port, security="none") as c:
        assert [r.ok for r in c.send_many([msg, msg, numbered(1)])] == [True] * 3
        results = c.send_raw_many([(b"Subject: a\r\n\r\na\r\n", ALICE, BOB), (Bad(), ALICE, [BOB]),
                                   (io.BytesIO(b"Subject: c\r\n\r\nc\r\n"), ALICE, [BOB])])
    assert results[0].ok
    assert isinstance(results[1], smtpcore.LocalError) and isinstance(results[1].__cause__, KeyError)
    if chunking:  # BDAT: the transaction is reset and the batch goes on
        assert results[2].ok and sink.stop() == (1, 5)
    else:  # DATA cannot be taken back: the connection is dropped, the rest is not sent
        assert isinstance(results[2], smtpcore.ConnectError) and sink.stop() == (1, 4)


def test_threads_share_messages_without_deadlock(sink_factory):
    sink = sink_factory(chunking=True)
    shared = [numbered(i) for i in range(4)]
    errors = []

    def run(order):
        try:
            with smtpcore.Client("127.0.0.1", sink.port, security="none") as c:
                for _ in range(5):
                    assert all(r.ok for r in c.send_many(order))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(shared,)),
               threading.Thread(target=run, args=(shared[::-1],))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and not any(t.is_alive() for t in threads)
    assert sink.stop()[1] == 40


def test_bad_arguments_fail_before_connecting():
    c = smtpcore.Client("127.0.0.1", 9, security="none")
    with pytest.raises(TypeError, match="send_raw_many"):
        c.send_many([numbered(0), b"Subject: x\r\n\r\nx\r\n"])
    with pytest.raises(TypeError):
        c.send_many([numbered(0), "text"])
    with pytest.raises(TypeError):
        c.send_raw_many([(b"x", ALICE)])
    with pytest.raises(TypeError):
        c.send_raw_many([("text", ALICE, [BOB])])
    assert c.send_many([]) == [] and c.send_raw_many(iter([])) == []
    assert not c.connected
    with pytest.raises(TypeError):
        smtpcore.Client("localhost", pipeline_depth="8")
    for depth in (0, 65):
        with pytest.raises(smtpcore.UsageError):
            smtpcore.Client("localhost", pipeline_depth=depth)
    smtpcore.Pool("localhost", pipeline_depth=64).close()


# ---------------------------------------------------------------- Pool.send_many

def test_pool_batches_from_threads_share_its_connections(clean, submission):
    """Pool.send_many: each batch pipelined on one of the pool's connections, from several threads at
    once; every message delivered exactly once, byte for byte, and an unknown recipient fails alone."""
    batches = [[numbered(t * 10 + i, tag="pool") for i in range(10)] for t in range(3)]
    batches[1][4] = numbered(99, to="nosuchuser@example.test", tag="pool")
    results = [None] * 3
    with smtpcore.Pool(size=2, **submission) as pool:
        def run(t):
            results[t] = pool.send_many(batches[t])
        threads = [threading.Thread(target=run, args=(t,)) for t in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert 1 <= pool.connections <= 2
    for t in range(3):
        for i, r in enumerate(results[t]):
            if (t, i) == (1, 4):
                assert isinstance(r, smtpcore.RecipientsRefused) and r.code == 550, r
            else:
                assert isinstance(r, smtpcore.SendResult) and r.ok, (t, i, r)
    sent = [m for t in range(3) for i, m in enumerate(batches[t]) if (t, i) != (1, 4)]
    got = sorted(clean.strip_trace(m) for m in clean.wait_for_messages("bob", 29))
    assert got == sorted(m.as_bytes(eight_bit=True) for m in sent)
    with pytest.raises(smtpcore.RecipientsRefused) as info:
        with smtpcore.Pool(**submission) as pool:
            pool.send_many([numbered(100, tag="pool"), numbered(101, to="nosuchuser@example.test")],
                           return_exceptions=False)
    assert info.value.batch_index == 1 and info.value.batch_results[0].ok
    with smtpcore.Pool(**submission) as pool:
        assert pool.send_many([]) == []
        with pytest.raises(TypeError):
            pool.send_many([b"raw bytes"])
