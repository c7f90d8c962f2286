#!/usr/bin/python3
"""Peer: aiosmtplib (Debian's python3-aiosmtplib), asyncio.

Scenarios as bench/c/sc_bench: send (S1, S6), rcpts (S2), compose (S3: the email
package, as aiosmtplib users compose), big (S4), pool (S5: asyncio tasks sharing a
queue of connections), web (S7: a new connection with STARTTLS and AUTH per message).
"""
import asyncio
import os
import ssl
import sys
import time

import aiosmtplib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pycommon import (EHLO_NAME, FROM, TO, compose_loop, emit, options, rcpt_list, read,  # noqa: E402
                      render_email, s3_message, s4_message, status_mb)


async def connect(o):
    s = aiosmtplib.SMTP(hostname=o.host, port=o.port, local_hostname=EHLO_NAME, start_tls=False)
    await s.connect()
    await s.ehlo()
    return s


async def send(o):
    msg = read(o.message)
    rss0 = status_mb("VmRSS")
    s = await connect(o)
    done = 0
    t0 = t1 = time.monotonic()
    while done < o.count and t1 - t0 < o.max_seconds:
        await s.sendmail(FROM, [TO], msg)
        done += 1
        t1 = time.monotonic()
    await s.quit()
    emit(done, t0, t1, rss0)


async def rcpts(o):
    msg = read(o.message)
    rss0 = status_mb("VmRSS")
    s = await connect(o)
    to = rcpt_list(o.rcpts)
    t0 = time.monotonic()
    errors, _ = await s.sendmail(FROM, to, msg)
    t1 = time.monotonic()
    await s.quit()
    emit(1, t0, t1, rss0, accepted=len(to) - len(errors))


async def big(o):
    rss0 = status_mb("VmRSS")
    s = await connect(o)
    t0 = time.monotonic()
    await s.send_message(s4_message(o.attach))
    t1 = time.monotonic()
    await s.quit()
    emit(1, t0, t1, rss0)


async def pool(o):
    msg = read(o.message)
    rss0 = status_mb("VmRSS")
    conns = asyncio.Queue()
    for _ in range(o.connections):
        conns.put_nowait(await connect(o))
    state = {"taken": 0, "done": 0}
    t0 = time.monotonic()

    async def worker():
        while state["taken"] < o.count and time.monotonic() - t0 < o.max_seconds:
            state["taken"] += 1
            c = await conns.get()
            try:
                await c.sendmail(FROM, [TO], msg)
            finally:
                conns.put_nowait(c)
            state["done"] += 1

    await asyncio.gather(*(worker() for _ in range(o.threads)))
    t1 = time.monotonic()
    while not conns.empty():
        await conns.get_nowait().quit()
    emit(state["done"], t0, t1, rss0)


async def web(o):
    msg = read(o.message)
    ctx = ssl.create_default_context(cafile=o.ca_file)
    rss0 = status_mb("VmRSS")
    done = 0
    t0 = t1 = time.monotonic()
    while done < o.count and t1 - t0 < o.max_seconds:
        s = aiosmtplib.SMTP(hostname=o.host, port=o.port, local_hostname=EHLO_NAME, start_tls=True,
                            tls_context=ctx, username=o.user, password=o.password)
        await s.connect()
        await s.sendmail(FROM, [TO], msg)
        await s.quit()
        done += 1
        t1 = time.monotonic()
    emit(done, t0, t1, rss0)


def main():
    o = options()
    if o.scenario == "compose":
        compose_loop(o, lambda att: render_email(s3_message(att)))
        return
    fn = {"send": send, "rcpts": rcpts, "big": big, "pool": pool, "web": web}[o.scenario]
    asyncio.run(fn(o))


if __name__ == "__main__":
    main()
