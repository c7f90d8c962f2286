#!/usr/bin/python3
"""A tiny, fast SMTP sink for throughput and leak tests: accepts every
message, optionally after a fixed per-message delay (so that parallel
connections matter), one thread per connection. Standard library only.

Run as a separate process (so its CPU time never competes with the GIL of
the process under test)::

    python3 sink.py [--delay-ms N] [--chunking]

prints "PORT <n>" and serves until killed; on SIGTERM prints
"STATS <connections> <messages>".

Speaks: greeting, EHLO/HELO (PIPELINING, 8BITMIME, SMTPUTF8, SIZE,
ENHANCEDSTATUSCODES, optionally CHUNKING), MAIL, RCPT, DATA (or BDAT),
RSET, NOOP, QUIT. Replies are batched per read, so pipelined commands cost
one write.
"""
import argparse
import signal
import socket
import sys
import threading
import time

STATS = {"connections": 0, "messages": 0}
LOCK = threading.Lock()


def serve_connection(conn, delay, chunking):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    caps = ["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 100000000", "ENHANCEDSTATUSCODES"]
    if chunking:
        caps.append("CHUNKING")
    ehlo = "250-sink\r\n" + "".join("250-%s\r\n" % c for c in caps[:-1]) + "250 %s\r\n" % caps[-1]
    buf = b""
    in_data = False
    bdat_left = 0
    bdat_last = False
    out = [b"220 sink ESMTP\r\n"]
    try:
        while True:
            if out:
                conn.sendall(b"".join(out))
                out = []
            chunk = conn.recv(262144)
            if not chunk:
                return
            buf += chunk
            while True:
                if bdat_left:
                    take = min(bdat_left, len(buf))
                    buf = buf[take:]
                    bdat_left -= take
                    if bdat_left:
                        break
                    if bdat_last:
                        done_message(delay)
                        out.append(b"250 2.0.0 Ok: queued\r\n")
                    else:
                        out.append(b"250 2.0.0 Ok: chunk\r\n")
                    continue
                if in_data:
                    end = buf.find(b"\r\n.\r\n")
                    if end < 0:
                        # keep the tail that could start the terminator
                        if len(buf) > 4:
                            buf = buf[-4:]
                        break
                    buf = buf[end + 5:]
                    in_data = False
                    done_message(delay)
                    out.append(b"250 2.0.0 Ok: queued\r\n")
                    continue
                nl = buf.find(b"\r\n")
                if nl < 0:
                    break
                line, buf = buf[:nl], buf[nl + 2:]
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    out.append(ehlo.encode() if verb == b"EHLO" else b"250 sink\r\n")
                elif verb == b"MAIL":
                    out.append(b"250 2.1.0 Ok\r\n")
                elif verb == b"RCPT":
                    out.append(b"250 2.1.5 Ok\r\n")
                elif verb == b"DATA":
                    # A blank body is "\r\n.\r\n" right after DATA's CRLF: keep that CRLF.
                    buf = b"\r\n" + buf
                    in_data = True
                    out.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                elif verb == b"BDAT":
                    parts = line.split()
                    bdat_left = int(parts[1])
                    bdat_last = len(parts) > 2 and parts[2].upper() == b"LAST"
                    if bdat_left == 0:
                        bdat_left = 0
                        if bdat_last:
                            done_message(delay)
                            out.append(b"250 2.0.0 Ok: queued\r\n")
                elif verb == b"QUIT":
                    out.append(b"221 2.0.0 Bye\r\n")
                    conn.sendall(b"".join(out))
                    return
                elif verb in (b"RSET", b"NOOP"):
                    out.append(b"250 2.0.0 Ok\r\n")
                else:
                    out.append(b"502 5.5.2 Error: command not recognized\r\n")
    except OSError:
        return
    finally:
        conn.close()


def done_message(delay):
    if delay:
        time.sleep(delay)
    with LOCK:
        STATS["messages"] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--chunking", action="store_true")
    args = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)

    def stop(*_):
        print("STATS %d %d" % (STATS["connections"], STATS["messages"]), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("PORT %d" % srv.getsockname()[1], flush=True)
    while True:
        conn, _ = srv.accept()
        with LOCK:
            STATS["connections"] += 1
        threading.Thread(target=serve_connection, args=(conn, args.delay_ms / 1000.0, args.chunking),
                         daemon=True).start()


if __name__ == "__main__":
    main()
