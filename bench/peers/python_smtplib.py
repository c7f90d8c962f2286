#!/usr/bin/python3
"""Peer: Python's smtplib, with the email package to compose.

Scenarios as bench/c/sc_bench: send (S1, S6), rcpts (S2), compose (S3), big (S4),
pool (S5: threads sharing a queue of connections), web (S7: a new connection with
STARTTLS and AUTH per message). Used as a Python program would use it: sendmail()
with the message bytes, send_message() for an EmailMessage, quit() at the end.
The EHLO name is given (as to every client) so that no reverse DNS look-up of this
machine's name is timed.
"""
import os
import queue
import smtplib
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pycommon import (EHLO_NAME, FROM, TO, compose_loop, emit, options, rcpt_list, read,  # noqa: E402
                      render_email, s3_message, s4_message, status_mb)


def connect(o):
    s = smtplib.SMTP(o.host, o.port, local_hostname=EHLO_NAME)
    s.ehlo()
    return s


def send(o):
    msg = read(o.message)
    rss0 = status_mb("VmRSS")
    s = connect(o)
    done = 0
    t0 = t1 = time.monotonic()
    while done < o.count and t1 - t0 < o.max_seconds:
        s.sendmail(FROM, [TO], msg)
        done += 1
        t1 = time.monotonic()
    s.quit()
    emit(done, t0, t1, rss0)


def rcpts(o):
    msg = read(o.message)
    rss0 = status_mb("VmRSS")
    s = connect(o)
    to = rcpt_list(o.rcpts)
    t0 = time.monotonic()
    refused = s.sendmail(FROM, to, msg)
    t1 = time.monotonic()
    s.quit()
    emit(1, t0, t1, rss0, accepted=len(to) - len(refused))


def big(o):
    rss0 = status_mb("VmRSS")
    s = connect(o)
    t0 = time.monotonic()
    s.send_message(s4_message(o.attach))
    t1 = time.monotonic()
    s.quit()
    emit(1, t0, t1, rss0)


def pool(o):
    msg = read(o.message)
    rss0 = status_mb("VmRSS")
    conns = queue.Queue()
    for _ in range(o.connections):
        conns.put(connect(o))
    lock = threading.Lock()
    state = {"taken": 0, "done": 0}
    t0 = time.monotonic()

    def worker():
        while True:
            with lock:
                if state["taken"] >= o.count or time.monotonic() - t0 >= o.max_seconds:
                    return
                state["taken"] += 1
            c = conns.get()
            try:
                c.sendmail(FROM, [TO], msg)
            finally:
                conns.put(c)
            with lock:
                state["done"] += 1

    threads = [threading.Thread(target=worker) for _ in range(o.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t1 = time.monotonic()
    while not conns.empty():
        conns.get().quit()
    emit(state["done"], t0, t1, rss0)


def web(o):
    msg = read(o.message)
    ctx = ssl.create_default_context(cafile=o.ca_file)
    rss0 = status_mb("VmRSS")
    done = 0
    t0 = t1 = time.monotonic()
    while done < o.count and t1 - t0 < o.max_seconds:
        s = smtplib.SMTP(o.host, o.port, local_hostname=EHLO_NAME)
        s.starttls(context=ctx)
        s.login(o.user, o.password)
        s.sendmail(FROM, [TO], msg)
        s.quit()
        done += 1
        t1 = time.monotonic()
    emit(done, t0, t1, rss0)


def main():
    o = options()
    if o.scenario == "compose":
        compose_loop(o, lambda att: render_email(s3_message(att)))
        return
    {"send": send, "rcpts": rcpts, "big": big, "pool": pool, "web": web}[o.scenario](o)


if __name__ == "__main__":
    main()
