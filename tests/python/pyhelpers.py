"""Helpers shared by the Python binding's tests (constants, the sink process, RSS)."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

ALICE = "alice@example.test"
ALICE_PW = "correct horse battery"
BOB = "bob@example.test"


class Sink:
    """tests/python/sink.py in its own process."""

    def __init__(self, delay_ms=0.0, chunking=False):
        argv = [sys.executable, os.path.join(HERE, "sink.py"), "--delay-ms", str(delay_ms)]
        if chunking:
            argv.append("--chunking")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError("sink did not start: %r" % line)
        self.port = int(line.split()[1])

    def stop(self):
        """Stop it; returns (connections, messages) it saw."""
        if self.proc.poll() is None:
            self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        for line in out.splitlines():
            if line.startswith("STATS "):
                _, conns, msgs = line.split()
                return int(conns), int(msgs)
        return None


def rss_kib():
    """Resident memory of this process (VmRSS), in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")
