"""Fixtures for the Python binding's tests.

The shared fixtures (``mta``: a private Postfix + Dovecot) come from
tests/conftest.py, which also puts tests/ on sys.path (``faultserver``,
``servers``, ``vectors``). These tests need the installed ``smtpcore``
package (``pip install .``), never the CLI.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)

try:
    import smtpcore  # noqa: F401
except ImportError as e:  # pragma: no cover - a setup problem, say so plainly
    raise ImportError("the smtpcore package is not installed for %s (run: pip install %s): %s"
                      % (sys.executable, ROOT, e)) from e

from pyhelpers import ALICE, ALICE_PW, Sink  # noqa: E402


@pytest.fixture
def submission(mta):
    """Keyword arguments for a Client on the submission port (STARTTLS + AUTH as alice)."""
    return dict(host="localhost", port=mta.ports["submission"], username=ALICE, password=ALICE_PW,
                ca_file=mta.ca_file)


@pytest.fixture
def clean(mta):
    """Empty Maildirs before the test (Postfix may still deliver earlier mail: wait for the queue)."""
    mta.wait_queue_empty(timeout=30)
    mta.clear()
    return mta


@pytest.fixture
def sink_factory():
    sinks = []

    def make(delay_ms=0.0, chunking=False):
        s = Sink(delay_ms, chunking)
        sinks.append(s)
        return s

    yield make
    for s in sinks:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
