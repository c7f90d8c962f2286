#!/usr/bin/python3
"""The benchmark suite (issue 8): runs every scenario for every client, N times,
and writes bench/results/<date>.md and <date>.png. Started by bench/run.sh after
it has installed and built everything; see bench/README.md.

Servers, all on 127.0.0.1 and started and stopped here:
  smtp-sink   Postfix's sink (PIPELINING, no CHUNKING): S1, S1d, S2, S4, S5
  sink -c     ours, with CHUNKING: S6, S6d
  sink -c -t -a  ours, STARTTLS + AUTH (like a Postfix submission port): S7
  delayproxy  2 ms each way in front of a server ("d" scenarios, S2, S5, S7); it
              also counts the round trips each client waited for.
"""
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
BUILD = os.path.join(ROOT, "build", "bench")
BIN = os.path.join(BUILD, "bin")
DATA = os.path.join(BUILD, "data")
LOGS = os.path.join(BUILD, "logs")
RESULTS = os.path.join(BENCH, "results")
VENV_PY = os.path.join(ROOT, "build", "bench-venv", "bin", "python")
PHP_EXT = os.path.join(BUILD, "php-src", "modules", "smtpcore.so")
SYS_PY = "/usr/bin/python3"

REPS = int(os.environ.get("BENCH_REPS", "3"))
# CPU placement. On this kind of VM a wake-up across cores costs tens of microseconds, so a loopback
# ping-pong runs 3x faster when client and server share a core, and the scheduler decides at random
# which it gets. "same" (default) puts servers, proxies and clients on one core: reproducible, and it
# measures the software; "split" puts servers on one core and clients on another; "none" leaves it.
PIN = os.environ.get("BENCH_PIN", "same")
_CPUS = sorted(os.sched_getaffinity(0))
SERVER_CPUS = {"same": {_CPUS[-1]}, "split": {_CPUS[0]}}.get(PIN)
CLIENT_CPUS = {"same": {_CPUS[-1]}, "split": {_CPUS[-1]}}.get(PIN)


def pinned(cpus):
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
DELAY_US = int(os.environ.get("BENCH_DELAY_US", "2000"))
USER, PASSWORD = "bench@example.com", "bench password"


def log(*a):
    print(*a, flush=True)


# ------------------------------------------------------------------ data


def make_data():
    os.makedirs(DATA, exist_ok=True)
    os.makedirs(LOGS, exist_ok=True)
    small = os.path.join(DATA, "small.eml")
    body = ("Hello,\r\n\r\nthis is the plain-text part of a benchmark message. It is long enough to look like a "
            "real\r\nnotification: a few sentences, a link to https://example.com/account and a signature.\r\n\r\n"
            "Regards,\r\nThe benchmark\r\n")
    head = ("From: sender@example.com\r\nTo: rcpt@example.org\r\nSubject: Benchmark message\r\n"
            "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <bench.1@example.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
    with open(small, "w", newline="") as f:
        f.write(head + body)
    import random
    rnd = random.Random(8)
    att = os.path.join(DATA, "att20k.bin")
    with open(att, "wb") as f:
        f.write(rnd.randbytes(20 * 1024))
    big = os.path.join(DATA, "big50m.bin")
    if not os.path.exists(big) or os.path.getsize(big) != 50 * 1024 * 1024:
        with open(big, "wb") as f:
            for _ in range(50):
                f.write(rnd.randbytes(1024 * 1024))
    tls = os.path.join(DATA, "tls")
    if not os.path.exists(os.path.join(tls, "server.pem")):
        os.makedirs(tls, exist_ok=True)

        def ossl(*args):
            subprocess.run(["openssl", *args], cwd=tls, check=True, capture_output=True)

        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "30", "-subj", "/CN=smtpcore bench CA")
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/CN=localhost")
        with open(os.path.join(tls, "ext.cnf"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                    "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
        ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
             "server.pem", "-days", "30", "-extfile", "ext.cnf")
    return {"small": small, "att": att, "big": big, "ca": os.path.join(tls, "ca.pem"),
            "cert": os.path.join(tls, "server.pem"), "key": os.path.join(tls, "server.key")}


# ------------------------------------------------------------------ servers


class Service:
    """A background process we started; stopped by its own pid only."""

    def __init__(self, name, argv, port=None):
        self.name = name
        self.log = open(os.path.join(LOGS, name + ".log"), "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, start_new_session=True,
                                     preexec_fn=pinned(SERVER_CPUS))
        if port is None:
            line = self.proc.stdout.readline().decode()
            m = re.match(r"port (\d+)", line)
            if not m:
                raise RuntimeError("%s did not start: %r (see %s)" % (name, line, self.log.name))
            port = int(m.group(1))
        self.port = port
        wait_port(port, name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, name, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s is not listening on %d" % (name, port))


class Proxy(Service):
    def __init__(self, name, upstream):
        self.stats = os.path.join(LOGS, name + ".jsonl")
        open(self.stats, "w").close()
        self.offset = 0
        super().__init__(name, [os.path.join(BIN, "delayproxy"), "0", str(upstream), str(DELAY_US), self.stats])

    def waits(self, t0, t1):
        """Round trips (answers the client waited for) delivered within [t0, t1]."""
        time.sleep(0.05)  # let the proxy log the connections that just closed
        with open(self.stats) as f:
            f.seek(self.offset)
            lines = f.read().splitlines()
            self.offset = f.tell()
        n = 0
        for line in lines:
            c = json.loads(line)
            n += sum(1 for w in c["waits"] if t0 <= w <= t1)
        return n


# ------------------------------------------------------------------ clients


@dataclass
class Client:
    name: str
    lang: str          # C, Python, PHP
    kind: str          # smtpcore, peer, limit
    argv: list
    extra: list = field(default_factory=list)
    note: str = ""
    available: bool = True
    why_not: str = ""


def clients(ctx):
    d = ctx["data"]
    py_peer = lambda f: [SYS_PY, os.path.join(BENCH, "peers", f)]  # noqa: E731
    php = lambda f: ["php", "-d", "memory_limit=-1", os.path.join(BENCH, "peers", f)]  # noqa: E731
    out = [
        Client("smtpcore C", "C", "smtpcore", [os.path.join(BIN, "sc_bench")]),
        Client("smtpcore C, CHUNKING off", "C", "smtpcore", [os.path.join(BIN, "sc_bench")], ["--chunking", "0"],
               note="the DATA path against a server that offers CHUNKING"),
        Client("smtpcore C, 1 connection", "C", "smtpcore", [os.path.join(BIN, "sc_bench")],
               note="S5 baseline: the same pool with max_connections 1"),
        Client("smtpcore C, one call per message", "C", "smtpcore", [os.path.join(BIN, "sc_bench")],
               note="smtpcore_session_send_bytes once per message: no pipelining across messages"),
        Client("limit, RFC pipelining", "C", "limit", [os.path.join(BIN, "limit")], ["--mode", "rfc"]),
        Client("limit, RFC 2920 across messages", "C", "limit", [os.path.join(BIN, "limit")], ["--mode", "next"],
               note="DATA: body, '.' and the next MAIL+RCPT+DATA in one write: 1 round trip per message"),
        Client("limit, window of 8", "C", "limit", [os.path.join(BIN, "limit")], ["--mode", "all", "--window", "8"],
               note="BDAT: at most 8 messages without their final reply"),
        Client("limit, all pipelined", "C", "limit", [os.path.join(BIN, "limit")], ["--mode", "all"]),
        Client("smtpcore Python", "Python", "smtpcore", [VENV_PY, os.path.join(BENCH, "smtpcore_py.py")]),
        Client("smtpcore Python, one call per message", "Python", "smtpcore",
               [VENV_PY, os.path.join(BENCH, "smtpcore_py.py")], note="Client.send_raw once per message"),
        Client("smtplib", "Python", "peer", py_peer("python_smtplib.py"),
               note="S3: the email package (also what aiosmtplib users compose with)"),
        Client("aiosmtplib", "Python", "peer", py_peer("python_aiosmtplib.py")),
        Client("smtpcore PHP", "PHP", "smtpcore",
               ["php", "-d", "memory_limit=-1", "-d", "extension=" + PHP_EXT,
                os.path.join(BENCH, "smtpcore.php")]),
        Client("smtpcore PHP, one call per message", "PHP", "smtpcore",
               ["php", "-d", "memory_limit=-1", "-d", "extension=" + PHP_EXT, os.path.join(BENCH, "smtpcore.php")],
               note="Client::send once per message"),
        Client("smtpcore PHP, php -n", "PHP", "smtpcore",
               ["php", "-n", "-d", "memory_limit=-1", "-d", "extension=" + PHP_EXT,
                os.path.join(BENCH, "smtpcore.php")],
               note="php without php.ini (none of Debian's 52 default modules), only our extension loaded"),
        Client("PHPMailer", "PHP", "peer", php("phpmailer.php")),
        Client("PHPMailer +NODELAY", "PHP", "peer", php("phpmailer.php"), ["--nodelay"]),
        Client("Symfony Mailer", "PHP", "peer", php("symfony_mailer.php")),
        Client("Symfony Mailer +NODELAY", "PHP", "peer", php("symfony_mailer.php"), ["--nodelay"]),
    ]
    by = {c.name: c for c in out}
    if not os.path.exists(VENV_PY):
        by["smtpcore Python"].available = False
        by["smtpcore Python"].why_not = "not built yet (no setup.py)" if not os.path.exists(
            os.path.join(ROOT, "setup.py")) else "not built yet (the extension did not build: build/bench/logs/pip.log)"
    else:
        r = subprocess.run([VENV_PY, "-c", "import smtpcore"], capture_output=True, text=True)
        if r.returncode != 0:
            by["smtpcore Python"].available = False
            by["smtpcore Python"].why_not = "not built yet (import smtpcore failed)"
    if not os.path.exists(PHP_EXT):
        by["smtpcore PHP"].available = False
        by["smtpcore PHP"].why_not = "not built yet (no config.m4)" if not os.path.exists(
            os.path.join(ROOT, "config.m4")) else "not built yet (the extension did not build: build/bench/logs/php.log)"
    else:
        r = subprocess.run(by["smtpcore PHP"].argv[:-1] + ["-r", "exit(class_exists('SmtpCore\\\\Client') ? 0 : 1);"],
                           capture_output=True)
        if r.returncode != 0:
            by["smtpcore PHP"].available = False
            by["smtpcore PHP"].why_not = "not built yet (SmtpCore\\Client missing)"
    # Other ways to call the same build are as available as it is.
    for base, variants in (("smtpcore Python", ["smtpcore Python, one call per message"]),
                           ("smtpcore PHP", ["smtpcore PHP, one call per message", "smtpcore PHP, php -n"])):
        for v in variants:
            by[v].available, by[v].why_not = by[base].available, by[base].why_not
    return out


# ------------------------------------------------------------------ scenarios


@dataclass
class Scenario:
    id: str
    title: str
    metric: str             # the headline unit
    higher_better: bool
    args: list              # sc_bench-style scenario and flags (ports filled in)
    server: str             # key into ctx["servers"] or "" (no network)
    delayed: bool
    rows: list              # client names in this scenario
    cap: float = 0          # --max-seconds for each run (0: none)
    per_row: dict = field(default_factory=dict)  # client name -> extra flags
    reps: int = 0           # runs per cell (0: REPS)


PY_PEERS = ["smtplib", "aiosmtplib"]
PHP_PEERS = ["PHPMailer", "PHPMailer +NODELAY", "Symfony Mailer", "Symfony Mailer +NODELAY"]
PHP_PEERS_DEFAULT = ["PHPMailer", "Symfony Mailer"]
FRONT = ["smtpcore C", "smtpcore Python", "smtpcore PHP"]
LIMITS = ["limit, RFC pipelining", "limit, RFC 2920 across messages", "limit, all pipelined"]
LIMITS_BDAT = ["limit, RFC pipelining", "limit, window of 8", "limit, all pipelined"]
# The send scenarios: the front ends send in batches (a queue worker's way: the next
# envelope pipelined behind the previous message); one row shows one call per message.
BATCH = ["--batch", "100"]
BATCHED = {n: BATCH for n in ["smtpcore C", "smtpcore C, CHUNKING off", "smtpcore Python", "smtpcore PHP"]}
PER_CALL = ["smtpcore C, one call per message", "smtpcore Python, one call per message",
            "smtpcore PHP, one call per message"]


def scenarios(d):
    m = ["--message", d["small"]]
    return [
        Scenario("S1", "2,000 small messages over one connection, loopback, smtp-sink", "msg/s", True,
                 ["send", "--count", "2000", *m], "smtp-sink", False, FRONT + PER_CALL + LIMITS + PY_PEERS + PHP_PEERS,
                 cap=1.5, reps=max(REPS, 5), per_row=dict(BATCHED)),
        Scenario("S1d", "S1 over the delayed link (2 ms each way), 200 messages, smtp-sink", "msg/s", True,
                 ["send", "--count", "200", *m], "smtp-sink", True, FRONT + PER_CALL + LIMITS + PY_PEERS + PHP_PEERS,
                 cap=1.2, per_row=dict(BATCHED)),
        Scenario("S2", "1 message to 500 recipients, delayed link, smtp-sink", "s", False,
                 ["rcpts", "--rcpts", "500", *m], "smtp-sink", True, FRONT + PY_PEERS + PHP_PEERS_DEFAULT),
        Scenario("S3", "compose 20,000 text+HTML+20 KB attachment messages to bytes (no network)", "msg/s", True,
                 ["compose", "--count", "20000", "--attach", d["att"]], "", False,
                 FRONT + ["smtplib"] + PHP_PEERS_DEFAULT, cap=2),
        Scenario("S4", "one message with a 50 MB attachment, loopback, smtp-sink", "MB peak RSS", False,
                 ["big", "--attach", d["big"]], "smtp-sink", False,
                 FRONT + ["smtpcore PHP, php -n"] + PY_PEERS + PHP_PEERS_DEFAULT),
        Scenario("S5", "8 threads, 4,000 messages, pool of 4 connections, delayed link, smtp-sink", "msg/s", True,
                 ["pool", "--count", "4000", "--threads", "8", "--connections", "4", *m], "smtp-sink", True,
                 ["smtpcore C", "smtpcore C, 1 connection", "smtpcore Python"] + PY_PEERS, cap=2,
                 per_row={"smtpcore C, 1 connection": ["--connections", "1"]}),
        Scenario("S6", "S1 against a server offering CHUNKING (our sink), loopback", "msg/s", True,
                 ["send", "--count", "2000", *m], "sink-chunking", False,
                 FRONT + PER_CALL + ["smtpcore C, CHUNKING off"] + LIMITS_BDAT + PY_PEERS + PHP_PEERS, cap=1.5,
                 per_row={**{l: ["--chunking", "1"] for l in LIMITS_BDAT}, **BATCHED}, reps=max(REPS, 5)),
        Scenario("S6d", "S6 over the delayed link, 200 messages", "msg/s", True,
                 ["send", "--count", "200", *m], "sink-chunking", True,
                 FRONT + PER_CALL + ["smtpcore C, CHUNKING off"] + LIMITS_BDAT + PY_PEERS + PHP_PEERS, cap=1.2,
                 per_row={**{l: ["--chunking", "1"] for l in LIMITS_BDAT}, **BATCHED}),
        Scenario("S7", "web request: new connection, STARTTLS, AUTH, 1 message, QUIT; delayed link; our TLS sink",
                 "ms/msg", False,
                 ["web", "--count", "30", "--ca-file", d["ca"], "--user", USER, "--password", PASSWORD, *m],
                 "sink-tls", True, FRONT + ["smtpcore C, CHUNKING off"] + PY_PEERS + PHP_PEERS, cap=1.5),
    ]


def run_one(ctx, sc, cl):
    argv = list(cl.argv) + list(sc.args)
    if sc.server:
        srv = ctx["proxies"][sc.server] if sc.delayed else ctx["servers"][sc.server]
        argv += ["--port", str(srv.port)]
    if sc.cap:
        argv += ["--max-seconds", str(sc.cap)]
    argv += cl.extra + sc.per_row.get(cl.name, [])
    t = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120, preexec_fn=pinned(CLIENT_CPUS))
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 120 s"}
    with open(os.path.join(LOGS, "runs.log"), "a") as f:
        f.write("%s %s: %s\n%s%s\n" % (sc.id, cl.name, " ".join(argv), r.stdout, r.stderr))
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if r.returncode != 0 or not lines:
        err = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
        return {"error": err[:200]}
    res = json.loads(lines[-1])
    res["wall"] = time.monotonic() - t
    if sc.delayed:
        res["waits"] = ctx["proxies"][sc.server].waits(res["t0"], res["t1"])
    return res


def headline(sc, res):
    """The scenario's number for one run."""
    if sc.id == "S4":
        return res["rss_mb"]
    if sc.id == "S2":
        return res["seconds"]
    if sc.id == "S7":
        return 1000.0 * res["seconds"] / max(res["count"], 1)
    return res["count"] / res["seconds"] if res["seconds"] > 0 else float("inf")


def run_all(ctx):
    table = {}
    for sc in ctx["scenarios"]:
        t_sc = time.monotonic()
        rows = [ctx["clients"][n] for n in sc.rows]
        for rep in range(sc.reps or REPS):
            for cl in rows:
                if not cl.available:
                    continue
                res = run_one(ctx, sc, cl)
                table.setdefault(sc.id, {}).setdefault(cl.name, []).append(res)
        log("  %-4s %5.1f s  load %.2f  %s" % (sc.id, time.monotonic() - t_sc, os.getloadavg()[0], sc.title))
    return table


# ------------------------------------------------------------------ summaries


def med(xs):
    return statistics.median(xs) if xs else None


def summarise(ctx, table):
    """Per scenario and client: median headline, min, max, extras."""
    out = {}
    for sc in ctx["scenarios"]:
        for name in sc.rows:
            runs = table.get(sc.id, {}).get(name, [])
            ok = [r for r in runs if "error" not in r]
            cell = {"runs": len(runs), "ok": len(ok)}
            if runs and not ok:
                cell["error"] = runs[-1]["error"]
            if ok:
                vals = [headline(sc, r) for r in ok]
                cell.update(value=med(vals), lo=min(vals), hi=max(vals), vals=vals,
                            count=med([r["count"] for r in ok]), seconds=med([r["seconds"] for r in ok]),
                            rss=med([r["rss_mb"] for r in ok]), rss_start=med([r["rss_start_mb"] for r in ok]))
                if "waits" in ok[0]:
                    cell["waits"] = med([r["waits"] for r in ok])
                    cell["waits_per_msg"] = med([r["waits"] / max(r["count"], 1) for r in ok])
                if sc.id == "S4":
                    cell["s4_seconds"] = med([r["seconds"] for r in ok])
            out[(sc.id, name)] = cell
    return out


def fastest_peer(ctx, summ, sc):
    """(name, value) of the best peer in the scenario, or None."""
    best = None
    for name in sc.rows:
        if ctx["clients"][name].kind != "peer":
            continue
        v = summ.get((sc.id, name), {}).get("value")
        if v is None:
            continue
        if best is None or (v > best[1] if sc.higher_better else v < best[1]):
            best = (name, v)
    return best


def ratio(sc, v, ref):
    """How many times better than ref (>1: better), whatever the direction."""
    if v is None or ref is None or v == 0 or ref == 0:
        return None
    return v / ref if sc.higher_better else ref / v


def get(summ, sid, name, key="value"):
    return summ.get((sid, name), {}).get(key)


def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if abs(v) >= 1000:
        s = "{:,.0f}".format(v)
    elif 0 < abs(v) < 1:
        s = "%.3g" % v
    elif abs(v) >= 100:
        s = "%.0f" % v
    elif abs(v) >= 10:
        s = "%.1f" % v
    else:
        s = "%.2f" % v
    return s + unit


def fmt_ratio(r):
    return "–" if r is None else ("%.2f×" % r if r < 10 else "%.1f×" % r)


# ------------------------------------------------------------------ targets


def targets(ctx, summ):
    """(target, front end, value, verdict, evidence) rows."""
    rows = []

    def add(text, who, value, ok, evidence):
        verdict = "n/a" if ok is None else ("met" if ok else "missed")
        rows.append((text, who, value, verdict, evidence))

    def front_ends(sid):
        return [(n, ctx["clients"][n]) for n in FRONT]

    def unavailable(cl):
        return not cl.available

    # S1 through Python: >= 15x smtplib, >= 85% of the RFC-pipelining limit.
    for name, cl in front_ends("S1"):
        v = get(summ, "S1", name)
        r = ratio_of(v, get(summ, "S1", "smtplib"))
        lim = ratio_of(v, get(summ, "S1", "limit, RFC pipelining"))
        label = "" if name == "smtpcore Python" else " (core indicator)"
        if name == "smtpcore PHP":
            continue
        if unavailable(cl):
            add("S1 ≥ 15× smtplib", name, cl.why_not, None, "")
            add("S1 ≥ 85% of the RFC-pipelining limit", name, cl.why_not, None, "")
            continue
        add("S1 ≥ 15× smtplib" + label, name, fmt_ratio(r), chk(r, lambda x: x >= 15),
            "%s vs %s msg/s; ceiling on this run: limit 'RFC 2920 across messages' %s, 'all pipelined' %s" % (
                fmt(v), fmt(get(summ, "S1", "smtplib")),
                fmt_ratio(ratio_of(get(summ, "S1", "limit, RFC 2920 across messages"), get(summ, "S1", "smtplib"))),
                fmt_ratio(ratio_of(get(summ, "S1", "limit, all pipelined"), get(summ, "S1", "smtplib")))))
        add("S1 ≥ 85% of the RFC-pipelining limit" + label, name, pct(lim), chk(lim, lambda x: x >= 0.85),
            "%s vs %s msg/s" % (fmt(v), fmt(get(summ, "S1", "limit, RFC pipelining"))))
    # S1 through PHP >= 5x PHPMailer with TCP_NODELAY.
    for name in ("smtpcore PHP", "smtpcore C"):
        cl = ctx["clients"][name]
        if unavailable(cl):
            add("S1 ≥ 5× PHPMailer +NODELAY", name, cl.why_not, None, "")
            continue
        v = get(summ, "S1", name)
        r = ratio_of(v, get(summ, "S1", "PHPMailer +NODELAY"))
        add("S1 ≥ 5× PHPMailer +NODELAY" + ("" if name == "smtpcore PHP" else " (core indicator)"), name,
            fmt_ratio(r), chk(r, lambda x: x >= 5), "%s vs %s msg/s" % (fmt(v), fmt(get(summ, "S1", "PHPMailer +NODELAY"))))
    # S2: <= 2 round trips for the envelope.
    for name, cl in front_ends("S2"):
        if unavailable(cl):
            add("S2 ≤ 2 round trips for the envelope", name, cl.why_not, None, "")
            continue
        w = get(summ, "S2", name, "waits")
        env = None if w is None else w - 1
        add("S2 ≤ 2 round trips for the envelope", name, fmt(env), chk(env, lambda x: x <= 2),
            "%s round trips in the send (the last is the end-of-data reply); %s s" % (fmt(w), fmt(get(summ, "S2", name))))
    # S1 delayed >= 4x every peer without CHUNKING; with CHUNKING >= 25x.
    for sid, need, what in (("S1d", 4, "without CHUNKING"), ("S6d", 25, "with CHUNKING")):
        sc = ctx["by_id"][sid]
        best = fastest_peer(ctx, summ, sc)
        for name, cl in front_ends(sid):
            if unavailable(cl):
                add("S1 delayed ≥ %d× every peer %s" % (need, what), name, cl.why_not, None, "")
                continue
            v = get(summ, sid, name)
            r = ratio_of(v, best[1] if best else None)
            lim = "limit, RFC 2920 across messages" if sid == "S1d" else "limit, window of 8"
            add("S1 delayed ≥ %d× every peer %s (%s)" % (need, what, sid), name, fmt_ratio(r),
                chk(r, lambda x: x >= need),
                "%s msg/s vs %s %s msg/s; %s round trips/msg vs %s; limit '%s': %s" % (
                    fmt(v), best[0] if best else "?", fmt(best[1] if best else None),
                    fmt(get(summ, sid, name, "waits_per_msg")),
                    fmt(get(summ, sid, best[0], "waits_per_msg") if best else None), lim[7:],
                    fmt_ratio(ratio_of(get(summ, sid, lim), best[1] if best else None))))
    # S3: >= 50x the email package through Python, >= 3x PHPMailer through PHP.
    for name, ref, need in (("smtpcore Python", "smtplib", 50), ("smtpcore C", "smtplib", 50),
                            ("smtpcore PHP", "PHPMailer", 3), ("smtpcore C", "PHPMailer", 3)):
        cl = ctx["clients"][name]
        label = "S3 ≥ %d× %s" % (need, "Python's email package" if ref == "smtplib" else "PHPMailer")
        if unavailable(cl):
            add(label, name, cl.why_not, None, "")
            continue
        v = get(summ, "S3", name)
        r = ratio_of(v, get(summ, "S3", ref))
        add(label + ("" if name != "smtpcore C" else " (core indicator)"), name, fmt_ratio(r),
            chk(r, lambda x: x >= need), "%s vs %s msg/s" % (fmt(v), fmt(get(summ, "S3", ref))))
    # S4: peak RSS < 25 MB and no slower than the fastest peer.
    sc4 = ctx["by_id"]["S4"]
    peers4 = [(n, get(summ, "S4", n, "s4_seconds")) for n in sc4.rows if ctx["clients"][n].kind == "peer"]
    peers4 = [p for p in peers4 if p[1] is not None]
    fastest4 = min(peers4, key=lambda p: p[1]) if peers4 else None
    for name, cl in front_ends("S4") + [("smtpcore PHP, php -n", ctx["clients"]["smtpcore PHP, php -n"])]:
        if unavailable(cl):
            add("S4 peak RSS < 25 MB", name, cl.why_not, None, "")
            continue
        rss = get(summ, "S4", name)
        secs = get(summ, "S4", name, "s4_seconds")
        start = get(summ, "S4", name, "rss_start")
        add("S4 peak RSS < 25 MB", name, fmt(rss, " MB"), chk(rss, lambda x: x < 25),
            "whole process (VmHWM); %s MB at start, so the send added %s MB" % (
                fmt(start), fmt(None if rss is None or start is None else rss - start)))
        add("S4 no slower than the fastest peer", name, fmt(secs, " s"),
            None if secs is None or not fastest4 else secs <= fastest4[1],
            "fastest peer: %s %s s" % (fastest4[0], fmt(fastest4[1])) if fastest4 else "")
    # S5: 4 connections >= 3x one connection.
    v4, v1 = get(summ, "S5", "smtpcore C"), get(summ, "S5", "smtpcore C, 1 connection")
    r5 = ratio_of(v4, v1)
    add("S5 4 connections ≥ 3× one connection", "smtpcore C", fmt_ratio(r5), chk(r5, lambda x: x >= 3),
        "%s vs %s msg/s" % (fmt(v4), fmt(v1)))
    # S7: <= 7 round trips after the TCP connect; <= 65% of the peers' time.
    sc7 = ctx["by_id"]["S7"]
    best7 = fastest_peer(ctx, summ, sc7)
    for name, cl in front_ends("S7"):
        if unavailable(cl):
            add("S7 ≤ 7 round trips after the TCP connect", name, cl.why_not, None, "")
            continue
        w = get(summ, "S7", name, "waits_per_msg")
        add("S7 ≤ 7 round trips after the TCP connect", name, fmt(w), chk(w, lambda x: x <= 7),
            "greeting not counted; the server offers CHUNKING (CHUNKING off: %s)" % fmt(
                get(summ, "S7", "smtpcore C, CHUNKING off", "waits_per_msg")))
        v = get(summ, "S7", name)
        share = None if v is None or not best7 else v / best7[1]
        add("S7 ≤ 65% of the peers' time", name, pct(share), chk(share, lambda x: x <= 0.65),
            "%s ms vs fastest peer %s %s ms" % (fmt(v), best7[0] if best7 else "?", fmt(best7[1] if best7 else None)))
    return rows


def chk(x, pred):
    """None (n/a) when there is no value, else whether the target holds."""
    return None if x is None else pred(x)


def ratio_of(a, b):
    return None if a is None or b is None or b == 0 else a / b


def pct(x):
    return "–" if x is None else "%.1f%%" % (100 * x)


# ------------------------------------------------------------------ callgrind


def callgrind(ctx):
    """Instructions per message of the C core on the S1 and S3 paths."""
    out = {}
    if not shutil.which("valgrind"):
        return out
    d = ctx["data"]
    sink = ctx["servers"]["smtp-sink"].port
    sc = os.path.join(BIN, "sc_bench")
    jobs = [
        ("S1 send_bytes (smtp-sink, DATA)", "smtpcore_session_send_bytes", 2000,
         [sc, "send", "--port", str(sink), "--count", "2000", "--message", d["small"]]),
        ("S6 send_bytes (CHUNKING)", "smtpcore_session_send_bytes", 2000,
         [sc, "send", "--port", str(ctx["servers"]["sink-chunking"].port), "--count", "2000", "--message",
          d["small"]]),
        ("S1 send_message (compose + send)", "smtpcore_session_send_message", 2000,
         [sc, "send", "--port", str(sink), "--count", "2000", "--compose"]),
        ("S3 compose (message + to_bytes)", "compose_one", 500,
         [sc, "compose", "--count", "500", "--attach", d["att"]]),
    ]
    for i, (label, fn, n, argv) in enumerate(jobs):
        outfile = os.path.join(LOGS, "callgrind.%d.%s.out" % (i + 1, fn))
        r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + outfile,
                            "--toggle-collect=" + fn, *argv], capture_output=True, text=True,
                           preexec_fn=pinned(CLIENT_CPUS))
        total = None
        if r.returncode == 0 and os.path.exists(outfile):
            with open(outfile) as f:
                for line in f:
                    if line.startswith("totals:") or line.startswith("summary:"):
                        total = int(line.split()[1])
        top = []
        if total and shutil.which("callgrind_annotate"):
            a = subprocess.run(["callgrind_annotate", "--threshold=100", outfile], capture_output=True, text=True)
            for line in a.stdout.splitlines():
                m = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S.*)", line)
                if m and "PROGRAM TOTALS" not in line:
                    ir = int(m.group(1).replace(",", ""))
                    where = m.group(3).split(":", 1)[-1].split(" [")[0]
                    top.append((ir / n, float(m.group(2)), where))
                if len(top) >= 8:
                    break
        out[label] = {"per_msg": total / n if total else None, "n": n, "top": top,
                      "error": None if total else (r.stderr.strip().splitlines() or ["?"])[-1]}
    return out


# ------------------------------------------------------------------ report


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


LOAD = {}


def machine_info():
    cpu = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    ver = lambda pkg: sh("dpkg-query -W -f='${Version}' %s 2>/dev/null" % pkg) or "?"  # noqa: E731
    commit = sh("git -C %s rev-parse --short HEAD" % ROOT)
    dirty = sh("git -C %s status --porcelain --untracked-files=no" % ROOT)
    return [
        ("machine", "%s, %s cores, %s, Linux %s, Debian %s" % (cpu, os.cpu_count(), mem, platform.release(),
                                                               sh("cat /etc/debian_version"))),
        ("smtpcore", "%s, commit %s%s, cmake Release (build/bench), gcc -O2" % (
            sh("sed -n 's/#define SMTPCORE_VERSION \"\\(.*\\)\"/\\1/p' %s/csrc/include/smtpcore.h" % ROOT),
            commit, " + uncommitted changes" if dirty else "")),
        ("compiler, OpenSSL", "%s; %s" % (sh("gcc --version | head -1"), sh("openssl version"))),
        ("Python", "%s; aiosmtplib %s" % (sh(SYS_PY + " -V"), ver("python3-aiosmtplib"))),
        ("PHP", "%s; PHPMailer %s; Symfony Mailer %s" % (sh("php -r 'echo PHP_VERSION;'"),
                                                         ver("libphp-phpmailer"), ver("php-symfony-mailer"))),
        ("servers", "smtp-sink from postfix %s; bench/c/sink.c (CHUNKING; STARTTLS+AUTH, TLS via OpenSSL)" %
         ver("postfix")),
        ("delayed link", "bench/c/delayproxy.c: %.1f ms each way (%.1f ms per round trip), order kept, 1 MB "
         "buffered per direction at most" % (DELAY_US / 1000, 2 * DELAY_US / 1000)),
        ("repetitions", "%d runs per cell, median shown with min–max" % REPS),
        ("CPU placement", {"same": "servers, proxies and clients pinned to CPU %s (BENCH_PIN=same): a loopback "
                                   "round trip then costs no cross-core wake-up" % ",".join(map(str, sorted(SERVER_CPUS or []))),
                           "split": "servers and proxies on CPU %s, clients on CPU %s (BENCH_PIN=split)" % (
                               ",".join(map(str, sorted(SERVER_CPUS or []))),
                               ",".join(map(str, sorted(CLIENT_CPUS or [])))),
                           }.get(PIN, "not pinned (BENCH_PIN=none)")),
        ("load average", "%s at the start, %s at the end of the scenarios (1-minute; anything above 0 is other "
         "work on this 2-core machine competing with client, server and proxy)" % (
             LOAD.get("start", "?"), LOAD.get("end", "?"))),
    ]


def write_report(ctx, table, summ, tg, cg, scenario_seconds, elapsed):
    day = datetime.date.today().isoformat()
    os.makedirs(RESULTS, exist_ok=True)
    md_path = os.path.join(RESULTS, day + ".md")
    png_path = os.path.join(RESULTS, day + ".png")
    L = []
    L.append("# smtpcore benchmarks, %s" % day)
    L.append("")
    L.append("Made by `bash bench/run.sh` (bench/README.md) in %.0f s (scenarios %.0f s). Every number is the median "
             "of %d runs (more where the heading says so). **Ratio** = how many times better than the fastest peer in the same scenario "
             "(>1: better; for seconds, ms and MB the inverse). Peers: smtplib, aiosmtplib, PHPMailer, Symfony "
             "Mailer (with and without TCP_NODELAY)." % (elapsed, scenario_seconds, REPS))
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    for k, v in machine_info():
        L.append("| %s | %s |" % (k, v))
    L.append("")
    L.append("## Results")
    L.append("")
    for sc in ctx["scenarios"]:
        best = fastest_peer(ctx, summ, sc)
        L.append("### %s — %s (%d runs)" % (sc.id, sc.title, sc.reps or REPS))
        L.append("")
        extra_hdr = ""
        if sc.delayed:
            extra_hdr = " round trips%s |" % (" in the send" if sc.id == "S2" else "/msg")
        if sc.id == "S4":
            extra_hdr = " seconds | RSS at start |"
        L.append("| client | %s | ratio | runs (min–max) | messages |%s" % (sc.metric, extra_hdr))
        L.append("|---|---:|---:|---|---:|" + "---:|" * extra_hdr.count("|"))
        for name in sc.rows:
            cl = ctx["clients"][name]
            cell = summ.get((sc.id, name), {})
            if not cl.available:
                L.append("| %s | %s | | | |%s" % (name, cl.why_not, " |" * extra_hdr.count("|")))
                continue
            if "value" not in cell:
                L.append("| %s | failed: %s | | | |%s" % (name, cell.get("error", "?").replace("|", "/"),
                                                           " |" * extra_hdr.count("|")))
                continue
            r = ratio(sc, cell["value"], best[1] if best else None)
            ex = ""
            if sc.delayed:
                ex = " %s |" % fmt(cell.get("waits") if sc.id == "S2" else cell.get("waits_per_msg"))
            if sc.id == "S4":
                ex = " %s | %s MB |" % (fmt(cell.get("s4_seconds")), fmt(cell.get("rss_start")))
            bold = "**" if cl.kind == "smtpcore" else ""
            L.append("| %s%s%s | %s | %s | %s–%s | %s |%s" % (
                bold, name, bold, fmt(cell["value"]), fmt_ratio(r), fmt(cell["lo"]), fmt(cell["hi"]),
                "{:,}".format(int(round(cell["count"]))), ex))
        notes = scenario_notes(sc)
        if notes:
            L.append("")
            L.append(notes)
        L.append("")
    L.append("## Targets (reported, never asserted)")
    L.append("")
    L.append("| target | front end | value | verdict | evidence |")
    L.append("|---|---|---:|---|---|")
    for t in tg:
        L.append("| %s | %s | %s | %s | %s |" % t)
    L.append("")
    why = shortfalls(summ, tg)
    if why:
        L.append("### Why the missed targets are missed")
        L.append("")
        L += why
        L.append("")
    L.append("## Instructions per message (callgrind, C core)")
    L.append("")
    L.append("`valgrind --tool=callgrind --toggle-collect=FN bench/c/sc_bench ...`: user-space instructions inside "
             "FN (and what it calls), divided by the messages. Kernel work (send/recv) is not counted.")
    L.append("")
    L.append("| path | instructions/msg | messages | heaviest functions (instructions/msg, share) |")
    L.append("|---|---:|---:|---|")
    for label, c in cg.items():
        top = "; ".join("%s %s (%.0f%%)" % (w, fmt(ir), p) for ir, p, w in c["top"][:6])
        L.append("| %s | %s | %d | %s |" % (label, fmt(c["per_msg"]) if c["per_msg"] else "failed: %s" % c["error"],
                                          c["n"], top))
    L.append("")
    L.append("## Notes")
    L.append("")
    L.extend(GENERAL_NOTES)
    L.append("")
    L.append("![ratios to the fastest peer](%s.png)" % day)
    L.append("")
    with open(md_path, "w") as f:
        f.write("\n".join(L))
    chart(ctx, summ, png_path)
    with open(os.path.join(BUILD, "results-%s.json" % day), "w") as f:
        json.dump({"table": table, "callgrind": cg}, f, indent=1, default=str)
    return md_path, png_path


def shortfalls(summ, tg):
    """One paragraph per kind of missed target, from this run's numbers."""
    missed = {t[0].split(" (")[0] for t in tg if t[3] == "missed"}
    out = []
    if any(m.startswith("S1 ≥ 15× smtplib") for m in missed):
        sm = get(summ, "S1", "smtplib")
        ceil = get(summ, "S1", "limit, RFC 2920 across messages")
        c, py = get(summ, "S1", "smtpcore C"), get(summ, "S1", "smtpcore Python")
        out.append(
            "- **S1 ≥ 15× smtplib**: the server is the ceiling. The fastest client that stays within RFC 2920 (limit "
            "'RFC 2920 across messages': pre-composed bytes, the next envelope behind each end of data) gets %s "
            "msg/s from smtp-sink on this 2-core machine, %s smtplib; 15× would be %s msg/s. smtpcore C is at %s "
            "of that ceiling, Python at %s. Where the server allows more (S6, our sink with CHUNKING) the same "
            "batches reach %s (C) and %s (Python) smtplib." % (
                fmt(ceil), fmt_ratio(ratio_of(ceil, sm)), fmt(None if sm is None else 15 * sm),
                pct(ratio_of(c, ceil)), pct(ratio_of(py, ceil)),
                fmt_ratio(ratio_of(get(summ, "S6", "smtpcore C"), get(summ, "S6", "smtplib"))),
                fmt_ratio(ratio_of(get(summ, "S6", "smtpcore Python"), get(summ, "S6", "smtplib")))))
    if any(m.startswith("S1 delayed ≥ 4×") for m in missed):
        lim = get(summ, "S1d", "limit, RFC 2920 across messages")
        best = max((get(summ, "S1d", n) or 0) for n in ("smtplib", "aiosmtplib"))
        out.append(
            "- **S1 delayed ≥ 4× without CHUNKING**: with DATA every message needs its 354 before its body (RFC "
            "2920: DATA ends a group), so one round trip per message is the floor, and the peers take four "
            "(MAIL, RCPT, DATA, end of data). 4× is therefore the ceiling itself: the limit client that does "
            "exactly one round trip per message reaches %s the fastest peer on this run, and smtpcore (%s round "
            "trips per message) is at %s of it (C). Only BDAT removes the 354 wait: S6d." % (
                fmt_ratio(ratio_of(lim, best)), fmt(get(summ, "S1d", "smtpcore C", "waits_per_msg")),
                pct(ratio_of(get(summ, "S1d", "smtpcore C"), lim))))
    if "S4 peak RSS < 25 MB" in missed:
        out.append(
            "- **S4 peak RSS < 25 MB through PHP**: php-cli as Debian configures it loads 52 modules and is %s MB "
            "before the first line of the script; the send adds %s MB. The same script under `php -n` (only our "
            "extension loaded) peaks at %s MB for the whole process." % (
                fmt(get(summ, "S4", "smtpcore PHP", "rss_start")),
                fmt(None if get(summ, "S4", "smtpcore PHP") is None else
                    get(summ, "S4", "smtpcore PHP") - get(summ, "S4", "smtpcore PHP", "rss_start")),
                fmt(get(summ, "S4", "smtpcore PHP, php -n"))))
    return out


SCENARIO_NOTES = {
    "S1": "Timed: the send loop only (connect, EHLO and QUIT are outside, for every client). The smtpcore rows "
          "send in batches of 100 (smtpcore_session_send_batch, Client.send_raw_many, Client::sendMany: the next "
          "envelope pipelined behind the previous message, RFC 2920 3.1), as a queue worker would; the 'one call "
          "per message' rows show the plain per-message calls. The PHP peers "
          "compose each message in send() (smtpcore PHP too: a Message per message); smtplib, aiosmtplib, smtpcore "
          "C and Python send the same pre-composed bytes. PHP without TCP_NODELAY stalls on Nagle + delayed ACK "
          "(~40 ms per message). Limit rows: 'RFC pipelining' waits for the 354 and the 250 of each message; "
          "'RFC 2920 across messages' sends body, '.' and the next envelope together (1 round trip per message, "
          "still RFC 2920); 'all pipelined' writes everything at once (bodies before their 354: not RFC).",
    "S1d": "Round trips/msg: answers the client waited for, counted by the delay proxy (see Notes). With DATA "
           "one connection cannot do better than 1 round trip per message (limit 'RFC 2920 across messages'); "
           "the peers need 4 (smtplib, aiosmtplib, Symfony) or 5 (PHPMailer adds RSET).",
    "S2": "Round trips in the send: MAIL, each RCPT, DATA and the end-of-data reply for a client that waits for "
          "each; the envelope round trips are this minus one. PHPMailer's count includes the RSET it sends after "
          "each message on a kept-alive connection.",
    "S3": "smtplib row = Python's email package (EmailMessage with Date and Message-ID, rendered with "
          "policy.SMTP); PHPMailer = preSend() + getSentMIMEMessage(); Symfony = Email::toString(); smtpcore "
          "C = smtpcore_message_* + smtpcore_message_to_bytes; smtpcore Python = Message(...).attach(bytes) and "
          "bytes(message); smtpcore PHP = Message->attachData() and toString().",
    "S4": "Peak RSS of the whole process (VmHWM), interpreter included (see 'RSS at start'); seconds = compose "
          "and send. The peers hold the whole encoded message in memory; smtpcore streams the file.",
    "S5": "PHP has no threads and its connections cannot be shared between processes, so the PHP rows are left "
          "out. smtplib: 8 threads sharing a queue of 4 SMTP objects; aiosmtplib: 8 tasks sharing 4 connections. "
          "The smtpcore pool closes a connection after 100 messages (its default).",
    "S6": "Our sink offers PIPELINING and CHUNKING. The peers do not implement BDAT, so they send DATA as in S1. "
          "Limit rows use BDAT here: 'RFC pipelining' = MAIL+RCPT+BDAT LAST+body in one write, then wait for "
          "its 3 replies; 'window of 8' = up to 8 such messages in flight; 'all pipelined' = all of them (all "
          "legal with PIPELINING+CHUNKING).",
    "S6d": "With BDAT nothing needs an answer before the next message: the smtpcore batch rows keep up to 32 "
           "messages unanswered (pipeline_depth), each after the first behind an RSET because the previous "
           "outcome is not known yet; the 'one call per message' row waits for each message's replies "
           "(1 round trip per message). The 'window of 8' limit row keeps 8 in flight.",
    "S7": "Each message: connect, STARTTLS (TLS 1.3, certificate verified against the bench CA), AUTH PLAIN, "
          "MAIL/RCPT/DATA or BDAT, QUIT. The sink offers what Postfix's submission port offers (PIPELINING, "
          "CHUNKING, STARTTLS, AUTH after TLS). Round trips/msg exclude the greeting; a QUIT reply the client "
          "does not wait for is not counted.",
}

GENERAL_NOTES = [
    "- The delayed link is a user-space proxy (bench/c/delayproxy.c) because this kernel has no netem qdisc. It "
    "holds each chunk for the delay in each direction and keeps order. It counts a round trip each time the "
    "client sends (or closes) after server bytes arrived that answered something it had sent, and logs when "
    "that answer arrived, so a run's round trips are counted inside its timed section only.",
    "- The TCP connect through the proxy is not delayed (the proxy accepts locally), so S7's times and round "
    "trips are \"after the TCP connect\", as the issue counts them.",
    "- PHP leaves Nagle's algorithm on: PHPMailer writes DATA line by line and Symfony in several writes, so "
    "the last write waits for the ACK of the previous one (delayed ACK, ~40 ms on Linux). The +NODELAY rows "
    "set `socket.tcp_nodelay` in the stream context (PHPMailer: SMTPOptions; Symfony: "
    "getStream()->setStreamOptions()).",
    "- Symfony Mailer's transport restarts (QUIT and reconnect) every 100 messages by default; the bench lifts "
    "that (setRestartThreshold) so S1 stays one connection for it as for everyone.",
    "- Every client sends the same EHLO name (client.bench.example), so no reverse look-up of the host name "
    "(smtplib's getfqdn) is timed.",
    "- Loopback scenarios (S1, S3, S6) measure microseconds per message: they depend on CPU placement (see above; "
    "with client and server on different cores of this VM every round trip costs two cross-core wake-ups and S1 "
    "runs about 3× slower for every client) and on whatever else runs on the machine (load average above, "
    "min–max columns). The delayed scenarios are dominated by round trips and repeat within a few percent.",
    "- Raw runs: build/bench/results-DATE.json; every command line and output: build/bench/logs/runs.log.",
]


def scenario_notes(sc):
    n = SCENARIO_NOTES.get(sc.id, "")
    if sc.cap:
        n += (" " if n else "") + ("Each run stops starting messages after %g s (the messages column says how many "
                                   "it sent); the rate is over those." % sc.cap)
    return n


def chart(ctx, summ, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    series = [n for n in FRONT if ctx["clients"][n].available] + ["limit, RFC pipelining", "limit, all pipelined"]
    colors = {"smtpcore C": "#1f77b4", "smtpcore Python": "#2ca02c", "smtpcore PHP": "#9467bd",
              "limit, RFC pipelining": "#bbbbbb", "limit, all pipelined": "#777777"}
    scs = ctx["scenarios"]
    fig, ax = plt.subplots(figsize=(12, 5.5))
    width = 0.8 / len(series)
    for i, name in enumerate(series):
        xs, ys = [], []
        for j, sc in enumerate(scs):
            best = fastest_peer(ctx, summ, sc)
            v = get(summ, sc.id, name)
            r = ratio(sc, v, best[1] if best else None) if name in sc.rows else None
            if r:
                xs.append(j + (i - (len(series) - 1) / 2) * width)
                ys.append(r)
        bars = ax.bar(xs, ys, width, label=name, color=colors.get(name))
        for x, y in zip(xs, ys):
            ax.text(x, y * 1.05, "%.1f" % y if y < 100 else "%.0f" % y, ha="center", va="bottom", fontsize=7)
        del bars
    ax.axhline(1.0, color="red", linewidth=1, linestyle="--", label="fastest peer = 1")
    ax.set_yscale("log")
    ax.set_xticks(range(len(scs)))
    ax.set_xticklabels(["%s\n(%s)" % (sc.id, sc.metric) for sc in scs])
    ax.set_ylabel("times better than the fastest peer (log)")
    ax.set_title("smtpcore vs the fastest peer per scenario (median of %d runs), %s" % (
        REPS, datetime.date.today().isoformat()))
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def print_summary(ctx, summ, tg, cg, md_path, png_path):
    log("")
    log("%-5s %-28s %12s %8s" % ("", "client", "median", "ratio"))
    for sc in ctx["scenarios"]:
        best = fastest_peer(ctx, summ, sc)
        for name in sc.rows:
            cl = ctx["clients"][name]
            cell = summ.get((sc.id, name), {})
            if not cl.available:
                v, r = cl.why_not, ""
            elif "value" not in cell:
                v, r = "failed", ""
            else:
                v, r = fmt(cell["value"]) + " " + sc.metric, fmt_ratio(ratio(sc, cell["value"], best[1] if best else None))
            log("%-5s %-28s %12s %8s" % (sc.id, name, v, r))
    log("")
    for t in tg:
        log("%-7s %-55s %-16s %s" % (t[3], t[0], t[1], t[2]))
    log("")
    for label, c in cg.items():
        log("callgrind %-40s %s instructions/msg" % (label, fmt(c["per_msg"])))
    log("")
    log("wrote %s and %s" % (os.path.relpath(md_path, ROOT), os.path.relpath(png_path, ROOT)))


# ------------------------------------------------------------------ main


def main():
    t_start = time.monotonic()
    data = make_data()
    ctx = {"data": data}
    ctx["clients"] = {c.name: c for c in clients(ctx)}
    ctx["scenarios"] = scenarios(data)
    ctx["by_id"] = {s.id: s for s in ctx["scenarios"]}
    only = os.environ.get("BENCH_ONLY")
    if only:
        ctx["scenarios"] = [s for s in ctx["scenarios"] if s.id in only.split(",")]
    open(os.path.join(LOGS, "runs.log"), "w").close()
    services = []
    try:
        sink_port = free_port()
        services.append(Service("smtp-sink", ["/usr/sbin/smtp-sink", "-u", "nobody", "127.0.0.1:%d" % sink_port,
                                              "256"], port=sink_port))
        services.append(Service("sink-chunking", [os.path.join(BIN, "sink"), "-c", "0"]))
        services.append(Service("sink-tls", [os.path.join(BIN, "sink"), "-c", "-t", data["cert"], data["key"], "-a",
                                             "0"]))
        ctx["servers"] = {s.name: s for s in services}
        proxies = {name: Proxy("delay-" + name, ctx["servers"][name].port)
                   for name in ("smtp-sink", "sink-chunking", "sink-tls")}
        services.extend(proxies.values())
        ctx["proxies"] = proxies
        log("servers: " + ", ".join("%s :%d" % (s.name, s.port) for s in services))
        for c in ctx["clients"].values():
            if not c.available:
                log("  %s: %s" % (c.name, c.why_not))
        t_sc = time.monotonic()
        LOAD["start"] = "%.2f" % os.getloadavg()[0]
        table = run_all(ctx)
        LOAD["end"] = "%.2f" % os.getloadavg()[0]
        t_sc = time.monotonic() - t_sc
        t_cg = time.monotonic()
        cg = {} if os.environ.get("BENCH_NO_CALLGRIND") else callgrind(ctx)
        log("  callgrind %.1f s" % (time.monotonic() - t_cg))
    finally:
        for s in reversed(services):
            s.stop()
    summ = summarise(ctx, table)
    tg = targets(ctx, summ)
    elapsed = time.monotonic() - t_start + float(os.environ.get("BENCH_SETUP_SECONDS", "0"))
    md_path, png_path = write_report(ctx, table, summ, tg, cg, t_sc, elapsed)
    print_summary(ctx, summ, tg, cg, md_path, png_path)


if __name__ == "__main__":
    sys.exit(main())
