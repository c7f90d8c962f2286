"""Misbehaving servers (tests/faultserver): timeouts, dropped connections,
refusals at each step, a failing message source; each ends with the right
exception, within the timeout, and nothing is claimed sent that was not."""
import builtins
import io
import time

import pytest

import smtpcore
from faultserver.faultserver import FaultServer, greet_ehlo, quit_steps
from pyhelpers import ALICE, BOB

CAPS = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]
ACCEPT_ONE = [{"expect": "MAIL"}, {"expect": "RCPT"}, {"expect": "DATA"},
              {"send": "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n"}, {"read_data": True},
              {"send": "250 2.0.0 queued as Q1\r\n"}]


def message(subject="fault"):
    return smtpcore.Message(from_=ALICE, to=BOB, subject=subject, text="body\n")


def client(srv, **kw):
    kw.setdefault("timeout", 5)
    return smtpcore.Client("127.0.0.1", srv.port, security="none", **kw)


def test_silent_server_times_out():
    srv = FaultServer([{"send": "220 hi\r\n"}, {"expect": "EHLO"}, {"sleep": 5}], timeout=15)
    with srv:
        t0 = time.monotonic()
        with pytest.raises(smtpcore.TimeoutError) as info:
            client(srv, timeout=0.5).send(message())
        elapsed = time.monotonic() - t0
    e = info.value
    assert isinstance(e, builtins.TimeoutError) and e.category == "timeout" and e.hint
    assert 0.4 <= elapsed < 2.5, elapsed


def test_silence_after_data_times_out_and_claims_nothing():
    script = greet_ehlo(CAPS) + [{"expect": "MAIL"}, {"expect": "RCPT"}, {"expect": "DATA"},
                                 {"send": "250 ok\r\n250 ok\r\n354 go\r\n"}, {"read_data": True}, {"sleep": 4}]
    with FaultServer(script, timeout=15) as srv:
        with pytest.raises(smtpcore.TimeoutError) as info:
            client(srv, timeout=0.7).send(message())
    result = info.value.result
    assert result is None or not result.ok


def test_greeting_421_is_connect_error():
    with FaultServer([{"send": "421 4.3.2 Service shutting down\r\n"}, {"wait_close": 5}]) as srv:
        with pytest.raises(smtpcore.ConnectError) as info:
            client(srv).connect()
    assert info.value.code == 421 and info.value.enhanced_code == "4.3.2"


def test_close_during_data_is_connect_error():
    script = greet_ehlo(CAPS) + [{"expect": "MAIL"}, {"expect": "RCPT"}, {"expect": "DATA"},
                                 {"send": "250 ok\r\n250 ok\r\n354 go\r\n"}, {"close": True}]
    with FaultServer(script) as srv:
        with pytest.raises(smtpcore.ConnectError) as info:
            client(srv).send(smtpcore.Message(from_=ALICE, to=BOB, text="x" * 500000))
    assert info.value.result is None or not info.value.result.ok


def test_sender_refused():
    script = greet_ehlo(["8BITMIME"]) + [{"expect": "MAIL"}, {"send": "553 5.1.8 Sender address rejected\r\n"},
                                         {"expect": "RSET"}, {"send": "250 2.0.0 ok\r\n"}] + quit_steps()
    with FaultServer(script) as srv:
        with client(srv) as c:
            with pytest.raises(smtpcore.SenderRefused) as info:
                c.send(message())
        srv.assert_ok(timeout=5)
    assert (info.value.code, info.value.enhanced_code) == (553, "5.1.8") and info.value.hint


def test_data_refused_is_protocol_error():
    script = greet_ehlo(CAPS) + [{"expect": "MAIL"}, {"expect": "RCPT"}, {"expect": "DATA"},
                                 {"send": "250 ok\r\n250 ok\r\n354 go\r\n"}, {"read_data": True},
                                 {"send": "554 5.6.0 Message content rejected\r\n"},
                                 {"expect": "RSET"}, {"send": "250 2.0.0 ok\r\n"}] + quit_steps()
    with FaultServer(script) as srv:
        with client(srv) as c:
            with pytest.raises(smtpcore.ProtocolError) as info:
                c.send(message())
            assert c.connected  # a refused transaction leaves the session usable
        srv.assert_ok(timeout=5)
    assert (info.value.code, info.value.enhanced_code) == (554, "5.6.0")
    assert info.value.result is not None and not info.value.result.accepted


def test_dropped_idle_connection_is_replaced_and_the_message_retried():
    first = greet_ehlo(CAPS) + ACCEPT_ONE + [{"close": True}]
    second = greet_ehlo(CAPS) + ACCEPT_ONE + quit_steps()
    srv = FaultServer(first, per_connection=[first, second], max_connections=2)
    with srv:
        with client(srv) as c:
            assert c.send(message("one")).ok
            time.sleep(0.2)  # the server has closed by now
            r = c.send(message("two"))
            assert r.ok and r.message == "2.0.0 queued as Q1"
        srv.assert_ok(timeout=5)
        assert len(srv.conns) == 2


def test_dropped_connection_retry_rewinds_a_seekable_file():
    first = greet_ehlo(CAPS) + ACCEPT_ONE + [{"close": True}]
    second = greet_ehlo(CAPS) + ACCEPT_ONE + quit_steps()
    srv = FaultServer(first, per_connection=[first, second], max_connections=2)
    body = b"Subject: file\r\n\r\n" + b"line\r\n" * 1000
    with srv:
        with client(srv) as c:
            c.send_raw(b"Subject: a\r\n\r\nx\r\n", ALICE, [BOB])
            time.sleep(0.2)
            assert c.send_raw(io.BytesIO(body), ALICE, [BOB]).ok
        srv.assert_ok(timeout=5)
    assert srv.conns[1].data[0].replace(b"\r\n..", b"\r\n.") == body


class FailingFile(io.RawIOBase):
    """Gives some bytes, then raises."""

    def __init__(self):
        self.calls = 0

    def readable(self):
        return True

    def read(self, n=-1):
        self.calls += 1
        if self.calls == 1:
            return b"Subject: x\r\n\r\n" + b"y" * 100
        raise OSError("disk on fire")


@pytest.mark.parametrize("chunking", [False, True])
def test_failing_source_is_local_error_and_nothing_is_sent(sink_factory, chunking):
    sink = sink_factory(chunking=chunking)
    with smtpcore.Client("127.0.0.1", sink.port, security="none") as c:
        with pytest.raises(smtpcore.LocalError) as info:
            c.send_raw(FailingFile(), ALICE, [BOB])
        assert isinstance(info.value.__cause__, OSError) and "disk on fire" in str(info.value.__cause__)
        assert c.send(message()).ok  # usable afterwards (a new connection after DATA was cut)
    conns, msgs = sink.stop()
    assert msgs == 1
    # With DATA the core must drop the connection; with BDAT it resets the transaction and goes on.
    assert conns == (1 if chunking else 2)


def test_python_exception_in_source_propagates_as_cause(sink_factory):
    sink = sink_factory()

    class Bad:
        def read(self, n):
            raise KeyError("boom")

    with smtpcore.Client("127.0.0.1", sink.port, security="none") as c:
        with pytest.raises(smtpcore.LocalError) as info:
            c.send_raw(Bad(), ALICE, [BOB])
    assert isinstance(info.value.__cause__, KeyError)


def test_text_file_source_is_refused(sink_factory, tmp_path):
    sink = sink_factory()
    p = tmp_path / "m.txt"
    p.write_text("Subject: t\n\nbody\n")
    with smtpcore.Client("127.0.0.1", sink.port, security="none") as c, open(p) as f:
        with pytest.raises(smtpcore.LocalError) as info:
            c.send_raw(f, ALICE, [BOB])
    assert isinstance(info.value.__cause__, TypeError)


def test_starttls_injection_is_refused(mta):
    script = greet_ehlo(["STARTTLS", "PIPELINING"]) + [
        {"expect": "STARTTLS"}, {"send": "220 2.0.0 Ready\r\n250-XFAKE\r\n250 AUTH PLAIN\r\n"}, {"wait_close": 5}]
    with FaultServer(script) as srv:
        with pytest.raises(smtpcore.TLSError) as info:
            smtpcore.Client("127.0.0.1", srv.port, ca_file=mta.ca_file).connect()
    assert "injection" in info.value.message
