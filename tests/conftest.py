"""Shared pytest fixtures: the private MTA, the CLI under test, TLS material."""
import os
import subprocess
import sys

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)

from servers.mta import TestMTA  # noqa: E402


@pytest.fixture(scope="session")
def mta(tmp_path_factory):
    """One Postfix + Dovecot for the whole run (about 3 s to start)."""
    with TestMTA(tmp_path_factory.mktemp("mta")) as m:
        yield m


@pytest.fixture(scope="session")
def cli_path():
    path = os.environ.get("SMTPCORE_CLI", os.path.join(ROOT, "build", "ci", "smtpcore"))
    if not os.access(path, os.X_OK):
        pytest.fail("the smtpcore CLI is not built at %s (set SMTPCORE_CLI)" % path)
    return path


@pytest.fixture(scope="session")
def probe_path(cli_path):
    """tests/integration/session_probe.c, built next to the CLI."""
    path = os.path.join(os.path.dirname(cli_path), "session_probe")
    if not os.access(path, os.X_OK):
        pytest.fail("session_probe is not built at %s" % path)
    return path


class CLI:
    """Runs the smtpcore command-line tool; the password goes through the
    environment, never the command line."""

    def __init__(self, path):
        self.path = path

    def run(self, *args, input=None, password=None, timeout=60):
        env = dict(os.environ)
        env.pop("SMTPCORE_PASSWORD", None)
        argv = [self.path] + [str(a) for a in args]
        if password is not None:
            env["SMTPCORE_TEST_PW"] = password
            argv += ["--password-env", "SMTPCORE_TEST_PW"]
        return subprocess.run(argv, input=input, capture_output=True, timeout=timeout, env=env)


@pytest.fixture(scope="session")
def cli(cli_path):
    return CLI(cli_path)
