"""No leaks: 20,000 message builds and 20,000 sends keep the resident memory
flat, and under a debug interpreter (python3-dbg) the total reference count
does not grow across loops of every kind of call, batches and errors included."""
import gc
import io
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import smtpcore
from pyhelpers import ALICE, BOB, HERE, rss_kib

ROOT = os.path.dirname(os.path.dirname(HERE))
LOOPS = 20000
WARMUP = 2000
# 20,000 iterations: 1 MiB is about 50 bytes per iteration; a leaked message, attachment or
# exception (hundreds of bytes or more each) shows up far above it.
RSS_MARGIN_KIB = 1024


def build(i):
    m = smtpcore.Message(from_="Alice <%s>" % ALICE, to=[BOB, "carol@example.test"], bcc="dave@example.test",
                         subject=u"Gr\u00fc\u00dfe %d" % i, text=u"Text \u00e4 %d\n" % i, html="<p>%d</p>" % i,
                         attachments=[("a.bin", b"x" * 3000), ("b.txt", b"hello")], inline={"img": b"PNG"},
                         headers={"X-N": str(i)}, seed=i)
    m.as_bytes()
    m.envelope()
    m.size()
    try:
        smtpcore.Message(from_="not an address")
    except smtpcore.UsageError:
        pass


def measure(fn):
    for i in range(WARMUP):
        fn(i)
    gc.collect()
    before = rss_kib()
    for i in range(LOOPS):
        fn(i)
    gc.collect()
    return before, rss_kib()


def test_message_builds_keep_memory_flat():
    before, after = measure(build)
    print("20,000 builds: RSS %d -> %d KiB (%+d)" % (before, after, after - before))
    assert after - before < RSS_MARGIN_KIB


def test_sends_keep_memory_flat(sink_factory):
    sink = sink_factory()
    raw = b"Subject: leak test\r\n\r\nbody\r\n"
    client = smtpcore.Client("127.0.0.1", sink.port, security="none")

    def send(i):
        k = i % 4
        if k == 0:
            client.send_raw(raw, ALICE, [BOB])
        elif k == 1:
            client.send(smtpcore.Message(from_=ALICE, to=BOB, subject="s", text="t %d" % i))
        elif k == 2:
            client.send_raw(io.BytesIO(raw), ALICE, [BOB])
        else:
            try:
                client.send_raw(raw, ALICE, ["bad\r\naddress"])
            except smtpcore.UsageError:
                pass

    before, after = measure(send)
    client.close()
    conns, msgs = sink.stop()
    print("20,000 sends: RSS %d -> %d KiB (%+d), %d messages over %d connection(s)"
          % (before, after, after - before, msgs, conns))
    assert conns == 1 and msgs == (WARMUP + LOOPS) * 3 // 4
    assert after - before < RSS_MARGIN_KIB


REFCOUNT_SCRIPT = textwrap.dedent('''
    import gc, io, socket, sys
    import smtpcore
    port, ca = int(sys.argv[1]), None
    raw = b"Subject: x\\r\\n\\r\\nbody\\r\\n"
    closed = socket.socket(); closed.bind(("127.0.0.1", 0)); dead_port = closed.getsockname()[1]; closed.close()

    class Failing:
        def read(self, n):
            raise OSError("boom")

    client = smtpcore.Client("127.0.0.1", port, security="none", transcript=True)
    pool = smtpcore.Pool("127.0.0.1", port, security="none", size=2)

    def work(i):
        m = smtpcore.Message(from_="Alice <a@example.test>", to=["b@example.test"], bcc="c@example.test",
                             subject="s %d" % i, text="t", html="<p>h</p>", attachments=[("a.bin", b"x" * 100)],
                             inline={"i": b"PNG"}, headers={"X-A": "1"}, seed=i, date=1700000000)
        m.attach(io.BytesIO(b"spooled"), "f.txt")
        m.as_bytes(eight_bit=True); m.envelope(); m.size()
        out = io.BytesIO(); m.write_to(out)
        r = client.send(m); list(r); r.accepted; r.refused; r[0]
        client.send_raw(raw, "a@example.test", ["b@example.test"])
        client.send_raw(io.BytesIO(raw), "a@example.test", [("b@example.test", 2, "b@example.test")])
        pool.send(m); pool.send_raw(raw, "a@example.test", ["b@example.test"])
        client.send_many([m, m])
        a, b = "a@example.test", ["b@example.test"]
        client.send_raw_many([(raw, a, b), (raw, a, ["x\\r\\ny"]), (Failing(), a, b), (raw, a, b)])
        client.noop(); client.info; client.transcript
        del client._transcript[:]  # kept by design (transcript=True): not a leak
        for bad in (lambda: smtpcore.Message(from_="bad"),
                    lambda: smtpcore.Message(subject="a\\r\\nb"),
                    lambda: client.send_raw(raw, "a@example.test", ["x\\r\\ny"]),
                    lambda: client.send_raw(Failing(), "a@example.test", ["b@example.test"]),
                    lambda: client.send_many([m, "not a message"]),
                    lambda: client.send_many([m, smtpcore.Message(from_="a@example.test")], return_exceptions=False),
                    lambda: smtpcore.Client("127.0.0.1", dead_port, security="none").connect(),
                    lambda: smtpcore.Client("localhost", security="nope"),
                    lambda: smtpcore.hint_for("nonsense")):
            try:
                bad()
            except (smtpcore.SMTPError, TypeError, ValueError):
                pass
        smtpcore.presets(); smtpcore.hint_for("auth", 535, "5.7.8")

    def total():
        gc.collect()
        return sys.gettotalrefcount()

    for i in range(100):
        work(i)
    deltas = []
    for rnd in range(3):
        before = total()
        for i in range(300):
            work(i)
        deltas.append(total() - before)
    client.close(); pool.close()
    print("DELTAS", *deltas)
''')


def test_refcounts_under_the_debug_interpreter(sink_factory, tmp_path):
    dbg = shutil.which("python3-dbg") or shutil.which("python3.11-dbg")
    if not dbg:
        pytest.skip("no debug interpreter (Debian package python3-dbg): sys.gettotalrefcount is only "
                    "available in a debug build of Python")
    build = subprocess.run([dbg, "setup.py", "-q", "build", "--build-base", str(tmp_path / "build")], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    libs = [p for p in (tmp_path / "build").iterdir() if p.name.startswith("lib")]
    assert len(libs) == 1
    script = tmp_path / "refcounts.py"
    script.write_text(REFCOUNT_SCRIPT)
    sink = sink_factory()
    env = dict(os.environ, PYTHONPATH=str(libs[0]))
    r = subprocess.run([dbg, str(script), str(sink.port)], capture_output=True, text=True, env=env, timeout=600,
                       cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    deltas = [int(x) for x in r.stdout.split("DELTAS")[1].split()]
    print("total refcount change over 3 rounds of 300 iterations:", deltas)
    # One leaked reference per iteration would be 300 per round; allow a little cache noise.
    assert max(deltas[1:]) < 50, deltas
