"""Self-tests for faultserver, using plain Python sockets/ssl as the client."""

import json
import os
import socket
import ssl
import subprocess
import sys
import time
import tracemalloc

import pytest

from .faultserver import (FaultServer, ScriptError, accept_mail, ehlo_reply, greet_ehlo,
                          normalize_script, quit_steps, starttls_steps)

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_PY = os.path.join(HERE, "faultserver.py")


# ---------------------------------------------------------------------------
# client helpers

def connect(srv, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Lines:
    """Line reader over a (possibly TLS) socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        i = self.buf.index(b"\n") + 1
        l, self.buf = self.buf[:i], self.buf[i:]
        return l

    def reply(self):
        out = []
        while True:
            l = self.line()
            out.append(l)
            if l[3:4] != b"-":
                return out


def recv_all(sock):
    out = b""
    while True:
        try:
            d = sock.recv(65536)
        except ConnectionResetError:
            return out
        if not d:
            return out
        out += d


@pytest.fixture(scope="session")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    crt, key = str(d / "cert.pem"), str(d / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return crt, key


def client_ctx(crt):
    ctx = ssl.create_default_context(cafile=crt)
    ctx.check_hostname = True
    return ctx


# ---------------------------------------------------------------------------
# basic steps

def test_send_expect_and_transcript():
    script = greet_ehlo(["PIPELINING", "8BITMIME", "STARTTLS"]) + quit_steps(wait=3)
    with FaultServer(script) as srv:
        s = connect(srv)
        r = Lines(s)
        assert r.reply() == [b"220 faultserver.test ESMTP faultserver\r\n"]
        s.sendall(b"EHLO client.test\r\n")
        assert r.reply() == [b"250-faultserver.test\r\n", b"250-PIPELINING\r\n",
                             b"250-8BITMIME\r\n", b"250 STARTTLS\r\n"]
        s.sendall(b"QUIT\r\n")
        assert r.reply() == [b"221 2.0.0 Bye\r\n"]
        t_close = time.monotonic()
        s.close()
        srv.assert_ok(timeout=5)
        c = srv.last
        assert c.completed and c.error is None and c.aborted_at is None
        assert srv.lines == [b"EHLO client.test\r\n", b"QUIT\r\n"]
        tr = srv.transcript
        assert tr[0] == ("S", b"220 faultserver.test ESMTP faultserver\r\n")
        assert [d for d, _ in tr] == ["S", "C", "S", "C", "S"]
        assert c.client_bytes() == b"EHLO client.test\r\nQUIT\r\n"
        ts = [rec.t for rec in tr]
        assert ts == sorted(ts) and ts[0] >= c.t0
        assert all(not rec.tls for rec in tr)
        assert c.client_close_reason == "eof"
        assert abs(c.client_closed_at - t_close) < 0.2
        assert srv.connections == [tr]
        # the server closed after wait_close returned
        assert c.events[-1][1] == "server_close"


def test_expect_mismatch_records_error_and_closes():
    with FaultServer([{"send": "220 hi\r\n"}, {"expect": "EHLO"}, {"send": "250 never\r\n"}]) as srv:
        s = connect(srv)
        s.sendall(b"HELO x\r\n")
        assert recv_all(s) == b"220 hi\r\n"
        assert srv.wait_done(5)
        assert "expected line starting with b'EHLO'" in srv.error and "HELO x" in srv.error
        assert "step 1 (expect)" in srv.error
        with pytest.raises(AssertionError):
            srv.assert_ok(timeout=1)


def test_expect_is_case_insensitive_and_expect_re_and_expect_any_pipelined():
    script = [{"send": "220 hi\r\n"}, {"expect": "ehlo"}, {"send": "250 ok\r\n"},
              {"expect_re": r"(?i)MAIL FROM:<[^>]*>( SIZE=\d+)?$"},
              {"expect_any": 3},
              {"send": "250 a\r\n250 b\r\n250 c\r\n354 go\r\n"}]
    with FaultServer(script) as srv:
        s = connect(srv)
        r = Lines(s)
        r.reply()
        s.sendall(b"EHLO x\r\n")
        r.reply()
        s.sendall(b"MAIL FROM:<a@b> SIZE=10\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n")
        assert [r.line() for _ in range(4)][-1] == b"354 go\r\n"
        srv.assert_ok(5)
        assert srv.lines[1:] == [b"MAIL FROM:<a@b> SIZE=10\r\n", b"RCPT TO:<c@d>\r\n",
                                 b"RCPT TO:<e@f>\r\n", b"DATA\r\n"]


def test_expect_re_mismatch():
    with FaultServer([{"expect_re": r"MAIL FROM:<>$"}]) as srv:
        s = connect(srv)
        s.sendall(b"MAIL FROM:<x>\r\n")
        assert srv.wait_done(5)
        assert "matching" in srv.error


@pytest.mark.parametrize("sent,opts,err", [
    (b"A" * 40, {"max_line": 16}, "longer than 16"),
    (b"EHLO bare\n", {}, "not CRLF-terminated"),
    (b"EHLO bare\n", {"allow_bare_lf": True}, None),
    (b"", {"timeout": 0.3}, "timeout after 0.3s"),
])
def test_line_limits(sent, opts, err):
    step = {"expect": "EHLO"}
    step.update(opts)
    with FaultServer([step]) as srv:
        s = connect(srv)
        if sent:
            s.sendall(sent)
        assert srv.wait_done(5)
        if err is None:
            assert srv.error is None
        else:
            assert err in srv.error


def test_expect_after_client_close_is_an_error():
    with FaultServer([{"expect": "QUIT"}]) as srv:
        s = connect(srv)
        s.sendall(b"QU")
        s.close()
        assert srv.wait_done(5)
        assert "client closed the connection (eof)" in srv.error and "b'QU'" in srv.error


def test_read_data_keeps_dot_stuffing():
    script = [{"expect": "DATA"}, {"send": "354 go\r\n"}, {"read_data": True}, {"send": "250 one\r\n"},
              {"expect": "DATA"}, {"send": "354 go\r\n"}, {"read_data": True}, {"send": "250 two\r\n"}]
    with FaultServer(script) as srv:
        s = connect(srv)
        r = Lines(s)
        s.sendall(b"DATA\r\n")
        r.reply()
        s.sendall(b"Subject: x\r\n\r\n..leading dot\r\nbody\r\n.")
        time.sleep(0.05)                    # terminator split across segments
        s.sendall(b"\r\n")
        assert r.reply() == [b"250 one\r\n"]
        s.sendall(b"DATA\r\n")
        r.reply()
        s.sendall(b".\r\n")                 # empty message
        assert r.reply() == [b"250 two\r\n"]
        srv.assert_ok(5)
        assert srv.data == [b"Subject: x\r\n\r\n..leading dot\r\nbody\r\n", b""]


def test_accept_mail_helper_with_pipelining():
    script = greet_ehlo(["PIPELINING"]) + accept_mail(rcpts=2) + quit_steps(1)
    with FaultServer(script) as srv:
        s = connect(srv)
        r = Lines(s)
        r.reply()
        s.sendall(b"EHLO x\r\n")
        r.reply()
        s.sendall(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n")
        assert [r.reply()[0][:3] for _ in range(4)] == [b"250", b"250", b"250", b"354"]
        s.sendall(b"hello\r\n.\r\nQUIT\r\n")
        assert r.reply()[0][:3] == b"250"
        assert r.reply()[0][:3] == b"221"
        s.close()
        srv.assert_ok(5)
        assert srv.data == [b"hello\r\n"]


def test_read_bdat():
    script = [{"read_bdat": True, "reply": "250 chunk ok\r\n", "until_last": True},
              {"read_bdat": True}]
    with FaultServer(script) as srv:
        s = connect(srv)
        r = Lines(s)
        s.sendall(b"BDAT 5\r\nab\r\n.bdat 3 last\r\n\x00\r\n")
        assert r.reply() == [b"250 chunk ok\r\n"]
        assert r.reply() == [b"250 chunk ok\r\n"]
        s.sendall(b"BDAT 0 LAST\r\n")
        srv.assert_ok(5)
        assert srv.last.bdat == [(b"ab\r\n.", False), (b"\x00\r\n", True), (b"", True)]

    with FaultServer([{"read_bdat": True}]) as srv:
        s = connect(srv)
        s.sendall(b"DATA\r\n")
        assert srv.wait_done(5)
        assert "expected 'BDAT <n> [LAST]'" in srv.error


# ---------------------------------------------------------------------------
# TLS

def test_starttls_injection_arrives_in_one_segment(cert):
    crt, key = cert
    script = (greet_ehlo(["PIPELINING", "STARTTLS"]) +
              [{"expect": "STARTTLS"}, {"send": "220 Ready\r\n250-XFAKE\r\n"}, {"starttls": True},
               {"expect": "EHLO"}, {"send": ehlo_reply(["AUTH PLAIN"])}] + quit_steps(2))
    with FaultServer(script, tls_cert=crt, tls_key=key) as srv:
        s = connect(srv)
        r = Lines(s)
        r.reply()
        s.sendall(b"EHLO x\r\n")
        r.reply()
        assert r.buf == b""
        s.sendall(b"STARTTLS\r\n")
        first = s.recv(4096)               # one recv, no waiting: must hold both
        assert first == b"220 Ready\r\n250-XFAKE\r\n"
        ts = client_ctx(crt).wrap_socket(s, server_hostname="localhost")
        t = Lines(ts)
        ts.sendall(b"EHLO x\r\n")
        assert t.reply() == [b"250-faultserver.test\r\n", b"250 AUTH PLAIN\r\n"]
        ts.sendall(b"QUIT\r\n")
        assert t.reply() == [b"221 2.0.0 Bye\r\n"]
        ts.close()
        srv.assert_ok(5)
        c = srv.last
        assert c.tls_version.startswith("TLS")
        inj = [rec for rec in c.transcript if rec[0] == "S" and b"XFAKE" in rec[1]]
        assert len(inj) == 1 and inj[0][1] == b"220 Ready\r\n250-XFAKE\r\n"
        assert c.client_bytes(tls=True) == b"EHLO x\r\nQUIT\r\n"
        assert c.client_bytes(tls=False) == b"EHLO x\r\nSTARTTLS\r\n"
        tls_recs = [rec for rec in c.transcript if rec.tls]
        assert [rec[0] for rec in tls_recs] == ["C", "S", "C", "S"]


def test_starttls_helper_and_clienthello_before_starttls_step(cert):
    """ClientHello bytes that arrive while the script is still in plaintext
    mode are fed into the TLS layer."""
    crt, key = cert
    script = ([{"expect": "STARTTLS"}, {"sleep": 0.3}, {"starttls": True},
               {"expect": "EHLO"}, {"send": ehlo_reply(["X"])}])
    with FaultServer(script, tls_cert=crt, tls_key=key) as srv:
        s = connect(srv)
        s.sendall(b"STARTTLS\r\n")
        ts = client_ctx(crt).wrap_socket(s, server_hostname="localhost")   # ClientHello now
        ts.sendall(b"EHLO y\r\n")
        assert Lines(ts).reply()[-1] == b"250 X\r\n"
        srv.assert_ok(5)
        assert srv.lines == [b"STARTTLS\r\n", b"EHLO y\r\n"]
    assert len(starttls_steps()) == 5


def test_tls_garbage_breaks_client_handshake(cert):
    crt, key = cert
    script = [{"send": "220 hi\r\n"}, {"expect": "STARTTLS"}, {"send": "220 go\r\n"},
              {"tls_garbage": True}]
    with FaultServer(script, tls_cert=crt, tls_key=key) as srv:
        s = connect(srv)
        r = Lines(s)
        r.reply()
        s.sendall(b"STARTTLS\r\n")
        assert r.reply() == [b"220 go\r\n"]
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            client_ctx(crt).wrap_socket(s, server_hostname="localhost")
        srv.assert_ok(5)
        hello = srv.last.client_bytes()[len(b"STARTTLS\r\n"):]
        assert hello[:1] == b"\x16"        # the raw ClientHello was recorded


@pytest.mark.parametrize("allow_fail", [False, True])
def test_starttls_handshake_failure(cert, allow_fail):
    crt, key = cert
    script = [{"expect": "STARTTLS"}, {"send": "220 go\r\n"},
              {"starttls": True, "allow_fail": allow_fail, "timeout": 3}, {"expect": "EHLO"}]
    with FaultServer(script, tls_cert=crt, tls_key=key) as srv:
        s = connect(srv)
        s.sendall(b"STARTTLS\r\n")
        Lines(s).reply()
        s.sendall(b"this is not a ClientHello\r\n")
        assert srv.wait_done(5)
        c = srv.last
        assert c.tls_error
        if allow_fail:
            assert srv.error is None and c.completed
        else:
            assert "TLS handshake failed" in srv.error


def test_streaming_over_tls(cert):
    crt, key = cert
    script = [{"starttls": True}, {"send_repeat": "250-x\r\n", "count": 20000},
              {"send": "250 end\r\n"}]
    with FaultServer(script, tls_cert=crt, tls_key=key) as srv:
        s = connect(srv)
        ts = client_ctx(crt).wrap_socket(s, server_hostname="localhost")
        data = recv_all(ts)
        assert data == b"250-x\r\n" * 20000 + b"250 end\r\n"
        srv.assert_ok(5)


def test_starttls_without_cert_is_error():
    with FaultServer([{"starttls": True}]) as srv:
        connect(srv)
        assert srv.wait_done(5)
        assert "no tls_cert" in srv.error


# ---------------------------------------------------------------------------
# timing, silence, closing

def test_client_bytes_recorded_during_sleep_with_timestamps():
    script = [{"send": "220 hi\r\n"}, {"mark": "slept"}, {"sleep": 0.5}, {"send": "250 late\r\n"},
              {"expect": "early"}]
    with FaultServer(script) as srv:
        s = connect(srv)
        r = Lines(s)
        r.reply()
        time.sleep(0.2)
        t_sent = time.monotonic()
        s.sendall(b"early\r\n")
        assert r.reply() == [b"250 late\r\n"]
        srv.assert_ok(5)
        c = srv.last
        (early,) = [rec for rec in c.transcript if rec[0] == "C"]
        s220, s250 = [rec for rec in c.transcript if rec[0] == "S"]
        assert early == ("C", b"early\r\n")
        assert s220.t < early.t < s250.t            # recorded while the script slept
        assert abs(early.t - t_sent) < 0.25
        assert s250.t - c.marks["slept"] >= 0.5
        assert c.client_records_after(s250.t) == []


def test_expect_silence():
    with FaultServer([{"send": "220 x\r\n"}, {"expect_silence": 0.3}, {"send": "250 y\r\n"}]) as srv:
        s = connect(srv)
        r = Lines(s)
        r.reply()
        assert r.reply() == [b"250 y\r\n"]
        srv.assert_ok(5)
    with FaultServer([{"send": "220 x\r\n"}, {"expect_silence": 1.0}]) as srv:
        s = connect(srv)
        Lines(s).reply()
        s.sendall(b"NOOP\r\n")
        assert srv.wait_done(5)
        assert "expected 1s of silence" in srv.error and "NOOP" in srv.error


def test_close_fin_and_rst():
    with FaultServer([{"send": "421 bye\r\n"}, {"close": True}]) as srv:
        s = connect(srv)
        assert recv_all(s) == b"421 bye\r\n"
        srv.assert_ok(5)
    with FaultServer([{"send": "250 x\r\n"}, {"close": True, "rst": True}]) as srv:
        s = connect(srv)
        assert srv.wait_done(5)
        time.sleep(0.05)
        buf = b""
        with pytest.raises(ConnectionResetError):
            while True:
                d = s.recv(100)
                if not d:
                    break
                buf += d
        assert srv.error is None


def test_wait_close_and_expect_close():
    with FaultServer([{"send": "220 x\r\n"}, {"wait_close": 5}]) as srv:
        s = connect(srv)
        Lines(s).reply()
        time.sleep(0.2)
        s.sendall(b"bye\r\n")
        t_close = time.monotonic()
        s.close()
        assert srv.wait_done(2)
        c = srv.last
        assert time.monotonic() - t_close < 0.5       # returned at close, not after 5 s
        assert c.client_bytes() == b"bye\r\n" and srv.error is None
        assert 0.15 < c.client_closed_at - c.transcript[0].t < 0.5
    with FaultServer([{"expect_close": 0.3}]) as srv:
        s = connect(srv)
        assert srv.wait_done(3)
        assert "did not close" in srv.error
    with FaultServer([{"wait_close": 0.2}]) as srv:       # timeout is not an error
        s = connect(srv)
        srv.assert_ok(3)


def test_drip_timing():
    with FaultServer([{"drip": "250 ok\r\n", "interval": 0.05}]) as srv:
        s = connect(srv)
        got, times = b"", []
        t0 = time.monotonic()
        while len(got) < 8:
            d = s.recv(100)
            assert d
            got += d
            times.append(time.monotonic())
        assert got == b"250 ok\r\n"
        assert len(times) >= 6                        # arrived (nearly) byte by byte
        assert 0.3 <= times[-1] - t0 < 0.8
        srv.assert_ok(5)
        recs = srv.transcript
        assert [rec[1] for rec in recs] == [bytes([b]) for b in b"250 ok\r\n"]
        gaps = [b.t - a.t for a, b in zip(recs, recs[1:])]
        assert min(gaps) >= 0.045


def test_send_repeat_100000_lines():
    script = [{"send_repeat": "250-x\r\n", "count": 100000}, {"send": "250 done\r\n"}]
    with FaultServer(script) as srv:
        s = connect(srv)
        data = recv_all(s)
        assert data.count(b"\r\n") == 100001 and data.endswith(b"250-x\r\n250 done\r\n")
        srv.assert_ok(5)
        rec = srv.transcript[0]
        assert rec.size == 700000 and rec.truncated and len(rec[1]) <= 4096
        assert rec[1].startswith(b"250-x\r\n250-x\r\n")


def test_big_line_streams_without_memory_blowup():
    n = 32 << 20
    tracemalloc.start()
    try:
        with FaultServer([{"send_big_line": n, "prefix": "250 "}]) as srv:
            s = connect(srv)
            total, tail = 0, b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                total += len(d)
                tail = (tail + d)[-8:]
            srv.assert_ok(10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == n + 4 + 2 and tail.endswith(b"xxxx\r\n")
    assert peak < 8 << 20, peak
    rec = srv.transcript[0]
    assert rec.size == n + 6 and rec[1].startswith(b"250 xxx")


def test_client_abort_during_stream_is_quiet():
    with FaultServer([{"send": "220 x\r\n"}, {"send_big_line": 500 << 20}, {"send": "never\r\n"}]) as srv:
        s = connect(srv)
        got = 0
        while got < (1 << 20):
            got += len(s.recv(65536))
        s.close()                                  # unread data -> RST
        assert srv.wait_done(5)
        c = srv.last
        assert srv.error is None
        assert c.aborted_at == 1 and not c.completed and c.abort_reason
        assert c.client_closed_at is not None
        assert 1 << 20 <= c.transcript[1].size < 500 << 20
        srv.assert_ok(1)                           # an abort is not a script error


def test_send_stall_is_reported():
    with FaultServer([{"send_big_line": 200 << 20}], send_timeout=0.5) as srv:
        s = connect(srv)                           # never reads
        assert srv.wait_done(5)
        assert "send stalled" in srv.error
        s.close()


# ---------------------------------------------------------------------------
# server lifecycle, multiple connections, validation, JSON/CLI

def test_multiple_connections_and_per_connection_scripts():
    srv = FaultServer([{"send": "220 ok\r\n"}, {"wait_close": 3}], max_connections=2,
                      per_connection=[[{"send": "421 busy\r\n"}, {"wait_close": 3}]])
    with srv:
        s1 = connect(srv)
        assert Lines(s1).reply() == [b"421 busy\r\n"]
        s1.close()
        s2 = connect(srv)
        assert Lines(s2).reply() == [b"220 ok\r\n"]
        s2.close()
        assert srv.wait_all_done(5)
        assert len(srv.connections) == 2
        assert srv.connections[0][0] == ("S", b"421 busy\r\n")
        assert srv.transcript[0] == ("S", b"220 ok\r\n")     # the LAST connection
        time.sleep(0.2)
        with pytest.raises(ConnectionRefusedError):
            connect(srv)
        srv.assert_ok(1, count=2)


def test_wait_done_without_connection_and_stop_interrupts():
    with FaultServer([{"sleep": 30}]) as srv:
        assert srv.wait_done(0.2) is False
        connect(srv)
        assert srv.wait_connections(1, 2)
        t = time.monotonic()
    assert time.monotonic() - t < 2
    assert srv.last.interrupted and srv.error is None
    with pytest.raises(AssertionError, match="interrupted"):
        srv.assert_ok(0.1)


@pytest.mark.parametrize("bad", [
    [{"sned": "x"}],
    [{"send": "x", "expect": "y"}],
    [{"expect": "EHLO", "timout": 3}],
    [{"close": True}, {"send": "x"}],
    [{"send_hex": "zz"}],
    [{"expect_re": "("}],
    [{"send_repeat": "x"}],
    {"send": "x"},
])
def test_script_validation(bad):
    with pytest.raises(ScriptError):
        FaultServer(bad)


def test_hex_variants_and_bytes():
    steps = normalize_script([{"send_hex": "32 32 30 0d0a"}, {"send": b"\xff\r\n"},
                              {"drip_hex": "4142"}, {"tls_garbage": True, "data_hex": "00ff"}])
    assert steps[0] == ("send", {"send": b"220\r\n"})
    assert steps[1][1]["send"] == b"\xff\r\n"
    assert steps[2] == ("drip", {"drip": b"AB"})
    assert steps[3][1]["data"] == b"\x00\xff"
    assert ehlo_reply([]) == b"250 faultserver.test\r\n"
    assert ehlo_reply(["A", "B"], "d") == b"250-d\r\n250-A\r\n250 B\r\n"


def _run_cli(tmp_path, script, client):
    sp = tmp_path / "script.json"
    sp.write_text(json.dumps(script))
    tp = tmp_path / "transcript.json"
    p = subprocess.Popen(["/usr/bin/python3", SERVER_PY, "--script", str(sp), "--transcript", str(tp),
                          "--timeout", "3", "--lifetime", "20"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = p.stdout.readline().decode()
        assert first.startswith("PORT "), first
        port = int(first.split()[1])
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        client(s)
        s.close()
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out.decode(), err.decode(), json.loads(tp.read_text())


def test_cli_json_script_and_transcript(tmp_path):
    script = {"script": [{"send_hex": "3232302068690d0a", "comment": "220 hi"},
                         {"expect": "EHLO"}, {"send": "250 ok\r\n"}, {"expect": "QUIT"},
                         {"send": "221 bye\r\n"}]}

    def client(s):
        r = Lines(s)
        assert r.reply() == [b"220 hi\r\n"]
        s.sendall(b"EHLO x\r\n")
        r.reply()
        s.sendall(b"QUIT\r\n")
        assert r.reply() == [b"221 bye\r\n"]

    rc, out, err, tr = _run_cli(tmp_path, script, client)
    assert rc == 0, err
    assert out.strip().endswith("DONE ok")
    assert tr["error"] is None
    (c,) = tr["connections"]
    assert c["completed"] and c["lines"] == ["EHLO x\r\n", "QUIT\r\n"]
    assert [(e["dir"], e["text"]) for e in c["transcript"]] == [
        ("S", "220 hi\r\n"), ("C", "EHLO x\r\n"), ("S", "250 ok\r\n"), ("C", "QUIT\r\n"),
        ("S", "221 bye\r\n")]
    assert c["transcript"][0]["hex"] == "3232302068690d0a"
    assert all(e["rel"] >= 0 for e in c["transcript"])


def test_cli_reports_script_error(tmp_path):
    def client(s):
        Lines(s).reply()
        s.sendall(b"HELO x\r\n")
        recv_all(s)

    rc, out, err, tr = _run_cli(tmp_path, [{"send": "220 hi\r\n"}, {"expect": "EHLO"}], client)
    assert rc == 1
    assert "DONE error" in out and "HELO" in err
    assert "expected line starting with" in tr["connections"][0]["error"]
