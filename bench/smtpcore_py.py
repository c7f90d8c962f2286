#!/usr/bin/env python3
"""smtpcore through its Python extension (bindings/python), for the suite.

Runs with the venv's Python that `bench/run.sh` built the extension into; if
`import smtpcore` fails the suite shows "not built yet" instead. Written against
the API as it is being defined (issue: Python bindings):

    smtpcore.Client(host, port, security="none" | "starttls", username=, password=, ca_file=)
    client.send_raw(data: bytes, sender: str, recipients: list[str])
    client.send(smtpcore.Message(from_=, to=[...], subject=, text=, html=))
    smtpcore.Pool(host, port, security=, size=)  .send_raw(...)
    smtpcore.Message(...).attach(path_or_bytes, filename=, content_type=); bytes(message)

Where a name may still change, `_first()` takes the first spelling the module
has. Scenarios and flags as bench/c/sc_bench.
"""
import os
import sys
import threading
import time

import smtpcore

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from pycommon import FROM, HTML, TEXT, TO, EHLO_NAME, emit, options, rcpt_list, read, status_mb  # noqa: E402


def _first(obj, *names):
    for n in names:
        f = getattr(obj, n, None)
        if f is not None:
            return f
    raise AttributeError("smtpcore: none of %s on %r" % (", ".join(names), obj))


def client(o, security="none", **kw):
    extra = {}
    if o.chunking == 0:
        extra["chunking"] = False
    return smtpcore.Client(o.host, o.port, security=security, ehlo_name=EHLO_NAME, **extra, **kw)


def close(c):
    _first(c, "close", "quit")()


def send(o):
    msg = read(o.message)
    rss0 = status_mb("VmRSS")
    c = client(o)
    send_raw = _first(c, "send_raw")
    send_raw(msg, FROM, [TO])  # connects (the session opens lazily or here): not timed
    done = 0
    t0 = t1 = time.monotonic()
    while o.batch > 0 and done < o.count and t1 - t0 < o.max_seconds:
        # A queue worker's way: a batch pipelined across messages (Client.send_raw_many).
        n = min(o.batch, o.count - done)
        for r in c.send_raw_many([(msg, FROM, [TO])] * n):
            if isinstance(r, Exception):
                raise r
        done += n
        t1 = time.monotonic()
    while o.batch <= 0 and done < o.count and t1 - t0 < o.max_seconds:
        send_raw(msg, FROM, [TO])
        done += 1
        t1 = time.monotonic()
    close(c)
    emit(done, t0, t1, rss0)


def rcpts(o):
    msg = read(o.message)
    rss0 = status_mb("VmRSS")
    c = client(o)
    c.send_raw(msg, FROM, [TO])  # connects
    t0 = time.monotonic()
    c.send_raw(msg, FROM, rcpt_list(o.rcpts))
    t1 = time.monotonic()
    close(c)
    emit(1, t0, t1, rss0)


def s3_message(att):
    m = smtpcore.Message(from_="Sender Name <sender@example.com>", to=["Recipient Name <rcpt@example.org>"],
                         subject="Your monthly report", text=TEXT, html=HTML)
    m.attach(att, filename="report.pdf", content_type="application/pdf")
    return m


def render(m):
    f = getattr(m, "to_bytes", None) or getattr(m, "as_bytes", None)
    return f() if f else bytes(m)


def compose(o):
    att = read(o.attach)
    rss0 = status_mb("VmRSS")
    done = size = 0
    t0 = t1 = time.monotonic()
    while done < o.count and t1 - t0 < o.max_seconds:
        size = len(render(s3_message(att)))
        done += 1
        t1 = time.monotonic()
    emit(done, t0, t1, rss0, message_bytes=size)


def big(o):
    rss0 = status_mb("VmRSS")
    c = client(o)
    c.send_raw(b"Subject: warm-up\r\n\r\nx\r\n", FROM, [TO])  # connects
    t0 = time.monotonic()
    m = smtpcore.Message(from_=FROM, to=[TO], subject="Benchmark message", text=TEXT)
    m.attach(o.attach, filename="big.bin", content_type="application/octet-stream")  # a path: read while sending
    c.send(m)
    t1 = time.monotonic()
    close(c)
    emit(1, t0, t1, rss0)


def pool(o):
    msg = read(o.message)
    rss0 = status_mb("VmRSS")
    p = smtpcore.Pool(o.host, o.port, security="none", ehlo_name=EHLO_NAME, size=o.connections)
    lock = threading.Lock()
    state = {"taken": 0, "done": 0}
    t0 = time.monotonic()

    def worker():
        while True:
            with lock:
                if state["taken"] >= o.count or time.monotonic() - t0 >= o.max_seconds:
                    return
                state["taken"] += 1
            p.send_raw(msg, FROM, [TO])
            with lock:
                state["done"] += 1

    threads = [threading.Thread(target=worker) for _ in range(o.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t1 = time.monotonic()
    close(p)
    emit(state["done"], t0, t1, rss0)


def web(o):
    msg = read(o.message)
    rss0 = status_mb("VmRSS")
    done = 0
    t0 = t1 = time.monotonic()
    while done < o.count and t1 - t0 < o.max_seconds:
        c = client(o, security="starttls", username=o.user, password=o.password, ca_file=o.ca_file)
        c.send_raw(msg, FROM, [TO])
        close(c)
        done += 1
        t1 = time.monotonic()
    emit(done, t0, t1, rss0)


def main():
    o = options()
    {"send": send, "rcpts": rcpts, "compose": compose, "big": big, "pool": pool, "web": web}[o.scenario](o)


if __name__ == "__main__":
    main()
