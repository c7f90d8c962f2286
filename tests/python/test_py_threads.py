"""smtpcore.Pool and threads: the GIL is released during sends, so 8 threads
over a pool of 4 connections beat one thread; the pool delivers through
Postfix; one Message object may be sent from many threads."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import smtpcore
from pyhelpers import ALICE, ALICE_PW, BOB

RAW = b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: pool\r\n\r\nhello\r\n"
MESSAGES = 500


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_eight_threads_beat_one_through_a_pool_of_four(sink_factory):
    """Each message costs the (separate-process) sink 5 ms. One thread waits for every one in
    turn; 8 threads keep 4 connections busy -- possible only if the GIL is released while C waits."""
    sink = sink_factory(delay_ms=5)
    with smtpcore.Pool("127.0.0.1", sink.port, security="none", size=4,
                       max_messages_per_connection=100000) as pool:
        def one(_=None):
            r = pool.send_raw(RAW, ALICE, [BOB])
            assert r.ok
        one()  # warm up: the first connection

        def single():
            for _ in range(MESSAGES):
                one()

        def threaded():
            with ThreadPoolExecutor(8) as ex:
                list(ex.map(one, range(MESSAGES)))

        best_single, best_threaded = timed(single), timed(threaded)
        if best_single / best_threaded < 1.3:  # a noisy machine: measure once more, keep the best
            best_single = min(best_single, timed(single))
            best_threaded = min(best_threaded, timed(threaded))
        assert pool.connections <= 4
    conns, msgs = sink.stop()
    speedup = best_single / best_threaded
    print("pool speedup: 1 thread %.2fs, 8 threads %.2fs, %.2fx, %d connections"
          % (best_single, best_threaded, speedup, conns))
    assert conns <= 4
    assert msgs >= 1 + 2 * MESSAGES
    assert speedup > 1.3, (best_single, best_threaded)


def test_python_threads_run_while_a_send_waits(sink_factory):
    """While one thread is inside send() (the sink sleeps 300 ms before answering), another runs."""
    sink = sink_factory(delay_ms=300)
    client = smtpcore.Client("127.0.0.1", sink.port, security="none")
    client.connect()
    done = threading.Event()
    spins = 0
    t = threading.Thread(target=lambda: (client.send_raw(RAW, ALICE, [BOB]), done.set()))
    t.start()
    while not done.is_set():
        spins += 1
    t.join()
    client.close()
    assert spins > 100000, spins


def test_pool_through_postfix(clean, mta):
    with smtpcore.Pool("localhost", mta.ports["submission"], username=ALICE, password=ALICE_PW,
                       ca_file=mta.ca_file, size=4) as pool:
        def send(i):
            return pool.send(smtpcore.Message(from_=ALICE, to=BOB, subject="pool %02d" % i, text="x\n"))
        with ThreadPoolExecutor(8) as ex:
            results = list(ex.map(send, range(40)))
        assert all(r.ok for r in results)
        assert 1 <= pool.connections <= 4
    msgs = clean.wait_for_messages("bob", 40, timeout=60)
    subjects = sorted(m.split(b"Subject: ")[1].split(b"\n")[0] for m in msgs)
    assert subjects == sorted(b"pool %02d" % i for i in range(40))


def test_pool_errors_and_kinds_of_messages(mta):
    from email.message import EmailMessage
    with smtpcore.Pool("localhost", mta.ports["mx"], ca_file=mta.ca_file, size=2) as pool:
        with pytest.raises(smtpcore.RecipientsRefused) as info:
            pool.send(smtpcore.Message(from_=ALICE, to="nosuchuser@example.test", text="x"))
        assert info.value.result.refused["nosuchuser@example.test"].code == 550
        em = EmailMessage()
        em["From"], em["To"], em["Subject"] = ALICE, BOB, "email.message via pool"
        em.set_content("x\n")
        assert pool.send(em).ok
        assert pool.send_raw(RAW, ALICE, [BOB]).ok
        r = pool.send(smtpcore.Message(from_=ALICE, to="carol@example.test", text="x"), recipients=[BOB])
        assert r.accepted == [BOB]
    with pytest.raises(smtpcore.UsageError):
        pool.send_raw(RAW, ALICE, [BOB])  # closed
    with pytest.raises(smtpcore.AuthError):
        smtpcore.Pool("localhost", mta.ports["submission"], username=ALICE, password="wrong",
                      ca_file=mta.ca_file).send_raw(RAW, ALICE, [BOB])


def test_pool_bad_arguments():
    for kw, exc in (({"size": 0}, smtpcore.UsageError), ({"size": "4"}, TypeError),
                    ({"idle_timeout": -1}, smtpcore.UsageError), ({"transcript": True}, smtpcore.UsageError),
                    ({"security": "bogus"}, smtpcore.UsageError)):
        with pytest.raises(exc):
            smtpcore.Pool("127.0.0.1", 25, **kw)


def test_one_message_from_many_threads(sink_factory):
    sink = sink_factory(delay_ms=1)
    msg = smtpcore.Message(from_=ALICE, to=BOB, subject="shared", text="x", attachments=[("a.bin", b"a" * 10000)])
    with smtpcore.Pool("127.0.0.1", sink.port, security="none", size=4) as pool:
        with ThreadPoolExecutor(8) as ex:
            results = list(ex.map(lambda _: pool.send(msg), range(64)))
    assert all(r.ok for r in results)
    assert sink.stop()[1] == 64


def test_one_client_from_many_threads(sink_factory):
    sink = sink_factory()
    with smtpcore.Client("127.0.0.1", sink.port, security="none") as client:
        with ThreadPoolExecutor(8) as ex:
            results = list(ex.map(lambda i: client.send_raw(RAW, ALICE, [BOB]), range(200)))
    assert all(r.ok for r in results)
    assert sink.stop() == (1, 200)


def test_pool_close_while_sending_finishes_the_sends(sink_factory):
    sink = sink_factory(delay_ms=200)
    pool = smtpcore.Pool("127.0.0.1", sink.port, security="none", size=2)
    results = []
    threads = [threading.Thread(target=lambda: results.append(pool.send_raw(RAW, ALICE, [BOB]))) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while pool.connections < 2 and time.monotonic() < deadline:  # both sends are in flight
        time.sleep(0.005)
    pool.close()
    for t in threads:
        t.join()
    assert len(results) == 2 and all(r.ok for r in results)
    with pytest.raises(smtpcore.UsageError):
        pool.send_raw(RAW, ALICE, [BOB])
