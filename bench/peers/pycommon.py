"""What the Python bench clients share: options, results, the S3/S4 messages.

Every client takes ``SCENARIO --host H --port P --count N --max-seconds T ...``
(the same flags as bench/c/sc_bench) and prints one JSON line last:
count, seconds (timed section), t0/t1 (time.monotonic, which is
CLOCK_MONOTONIC, as the delay proxy's clock), rss_mb (VmHWM: peak resident
set of the whole process) and rss_start_mb.
"""
import argparse
import email.policy
import email.utils
import json
import time
from email.message import EmailMessage

FROM = "sender@example.com"
TO = "rcpt@example.org"
EHLO_NAME = "client.bench.example"
TEXT = (
    "Hello,\n\nthis is the plain-text part of a benchmark message. It is long enough to look like a real\n"
    "notification: a few sentences, a link to https://example.com/account and a signature.\n\n"
    "Regards,\nThe benchmark\n"
)
HTML = (
    '<!DOCTYPE html><html><body><p>Hello,</p><p>this is the <b>HTML</b> part of a benchmark message. It is long '
    'enough to look like a real notification: a few sentences, a <a href="https://example.com/account">link</a> '
    "and a signature.</p><p>Regards,<br>The benchmark</p></body></html>\n"
)


def options(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=1e9)
    ap.add_argument("--rcpts", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--message")
    ap.add_argument("--attach")
    ap.add_argument("--ca-file")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--chunking", type=int, default=-1)
    ap.add_argument("--batch", type=int, default=0)  # smtpcore only: messages per batch call
    return ap.parse_args(argv)


def status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def emit(count, t0, t1, rss_start, **extra):
    out = {"count": count, "seconds": t1 - t0, "t0": t0, "t1": t1, "rss_mb": status_mb("VmHWM"),
           "rss_start_mb": rss_start}
    out.update(extra)
    print(json.dumps(out), flush=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def rcpt_list(n):
    return ["rcpt%d@example.org" % i for i in range(n)]


def s3_message(attachment):
    """The S3 message with the email package, as a Python program would write it."""
    msg = EmailMessage()
    msg["From"] = "Sender Name <sender@example.com>"
    msg["To"] = "Recipient Name <rcpt@example.org>"
    msg["Subject"] = "Your monthly report"
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid(domain="example.com")
    msg.set_content(TEXT)
    msg.add_alternative(HTML, subtype="html")
    msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="report.pdf")
    return msg


def s4_message(path):
    msg = EmailMessage()
    msg["From"] = FROM
    msg["To"] = TO
    msg["Subject"] = "Benchmark message"
    msg["Date"] = email.utils.formatdate()
    msg["Message-ID"] = email.utils.make_msgid(domain="example.com")
    msg.set_content(TEXT)
    with open(path, "rb") as f:
        msg.add_attachment(f.read(), maintype="application", subtype="octet-stream", filename="big.bin")
    return msg


def render_email(msg):
    """Bytes as smtplib.send_message would put them on the wire (CRLF)."""
    return msg.as_bytes(policy=email.policy.SMTP)


def compose_loop(o, render):
    """S3: compose and render count messages (or until max-seconds)."""
    att = read(o.attach)
    rss0 = status_mb("VmRSS")
    done = 0
    size = 0
    t0 = time.monotonic()
    t1 = t0
    while done < o.count and t1 - t0 < o.max_seconds:
        size = len(render(att))
        done += 1
        t1 = time.monotonic()
    emit(done, t0, t1, rss0, message_bytes=size)
