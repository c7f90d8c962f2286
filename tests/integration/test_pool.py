"""The thread-safe session pool (tests/integration/pool_probe.c): many
threads over a few reused connections to the real Postfix, reconnection
after max messages, and a retry when the server dropped an idle connection."""
import os
import subprocess

import pytest

from faultserver.faultserver import FaultServer, greet_ehlo, quit_steps

ALICE = "alice@example.test"


@pytest.fixture(scope="session")
def pool_probe(cli_path):
    path = os.path.join(os.path.dirname(cli_path), "pool_probe")
    if not os.access(path, os.X_OK):
        pytest.fail("pool_probe is not built at %s" % path)
    return path


def run(pool_probe, threads, per_thread, conns, *args):
    env = dict(os.environ)
    if "--user" in args:
        env["SMTPCORE_PASSWORD"] = "correct horse battery"
    r = subprocess.run([pool_probe, str(threads), str(per_thread), str(conns), *map(str, args)],
                       capture_output=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    fields = r.stdout.decode().split()
    return int(fields[1]), int(fields[3]), int(fields[5]), r.stdout.decode()


def test_threads_share_a_few_connections(mta, pool_probe):
    mta.clear()
    sent, failed, seen, out = run(pool_probe, 8, 25, 4, "--host", "localhost", "--port", mta.ports["submission"],
                                  "--ca-file", mta.ca_file, "--user", ALICE)
    assert (sent, failed) == (200, 0), out
    assert 1 <= seen <= 4
    msgs = mta.wait_for_messages("bob", 200, timeout=60)
    subjects = sorted(m.split(b"Subject: ")[1].split(b"\n")[0] for m in msgs)
    assert subjects == sorted(b"pool %d-%d" % (t, i) for t in range(8) for i in range(25))


def test_connections_are_renewed_after_max_messages(mta, pool_probe):
    mta.clear()
    sent, failed, seen, out = run(pool_probe, 2, 20, 2, "--host", "localhost", "--port", mta.ports["submission"],
                                  "--ca-file", mta.ca_file, "--user", ALICE, "--max-messages", 5)
    assert (sent, failed) == (40, 0), out
    mta.wait_for_messages("bob", 40, timeout=60)


def test_server_closed_idle_connection_is_replaced(pool_probe):
    accept_one = [{"expect": "MAIL"}, {"expect": "RCPT"}, {"expect": "DATA"},
                  {"send": "250 ok\r\n250 ok\r\n354 go\r\n"}, {"read_data": True}, {"send": "250 queued\r\n"}]
    first = greet_ehlo(caps=["PIPELINING", "8BITMIME"]) + accept_one + [{"close": True}]
    second = greet_ehlo(caps=["PIPELINING", "8BITMIME"]) + accept_one + quit_steps()
    srv = FaultServer(first, per_connection=[first, second], max_connections=2)
    srv.start()
    try:
        sent, failed, seen, out = run(pool_probe, 1, 2, 1, "--host", "127.0.0.1", "--port", srv.port,
                                      "--security", "none", "--from", "a@example.test", "--to", "b@example.test")
        srv.wait_all_done(10)
    finally:
        srv.stop()
    assert (sent, failed) == (2, 0), out
    assert len(srv.data) == 2


def test_batches_share_the_pool_connections(mta, pool_probe):
    """smtpcore_pool_send_messages: each batch pipelined on one of the pool's
    connections; every message delivered once."""
    mta.clear()
    sent, failed, seen, out = run(pool_probe, 3, 40, 2, "--host", "localhost", "--port", mta.ports["submission"],
                                  "--ca-file", mta.ca_file, "--user", ALICE, "--batch", 10)
    assert (sent, failed) == (120, 0), out
    assert 1 <= seen <= 2
    msgs = mta.wait_for_messages("bob", 120, timeout=60)
    subjects = sorted(m.split(b"Subject: ")[1].split(b"\n")[0] for m in msgs)
    assert subjects == sorted(b"pool %d-%d" % (t, i) for t in range(3) for i in range(40))


def test_batch_retried_once_when_the_idle_connection_was_closed(pool_probe):
    """The first batch leaves its connection idle; the server closes it; the
    second batch finds it dead before anything was accepted and goes again
    on a fresh connection (its messages are rendered afresh)."""
    accept_one = [{"expect": "MAIL"}, {"send": "250 ok\r\n"}, {"expect": "RCPT"}, {"send": "250 ok\r\n"},
                  {"expect": "DATA"}, {"send": "354 go\r\n"}, {"read_data": True}, {"send": "250 queued\r\n"}]
    first = greet_ehlo(caps=["8BITMIME"]) + accept_one * 2 + [{"close": True}]
    second = greet_ehlo(caps=["8BITMIME"]) + accept_one * 2 + quit_steps()
    srv = FaultServer(first, per_connection=[first, second], max_connections=2)
    srv.start()
    try:
        sent, failed, seen, out = run(pool_probe, 1, 4, 1, "--host", "127.0.0.1", "--port", srv.port,
                                      "--security", "none", "--from", "a@example.test", "--to", "b@example.test",
                                      "--batch", 2)
        srv.wait_all_done(10)
    finally:
        srv.stop()
    assert (sent, failed) == (4, 0), out
    assert len(srv.data) == 4
