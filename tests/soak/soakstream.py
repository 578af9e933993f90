#!/usr/bin/env python3
"""One inner TCP connection through the tunnel for the whole soak, both ways.

  soakstream.py serve ADDR PORT RESULT     accepts one connection
  soakstream.py send ADDR PORT STOPFILE MAXS RESULT
                                           connects once, never reconnects

Each side sends a deterministic pattern (byte i of a direction is
(i + salt) % 251) at about RATE bytes/s and checks every byte it receives
against the other side's pattern, counting corrupted bytes without losing
its place. The sender stops when STOPFILE exists (or after MAXS seconds),
shuts down its write side; the server then finishes its own direction and
closes. A reset, a timeout or an early EOF counts as a reset. Each side
writes one JSON line to RESULT (and RESULT.progress, rewritten about once
a second, with the bytes so far). Every wait is bounded.
"""
import json
import os
import socket
import sys
import threading
import time

RATE = int(os.environ.get("SOAK_RATE", "100000"))  # bytes/s each way
CHUNK = 2000
RECV = 65536
TIMEOUT = 120  # longer than any fault the soak schedules
PAT = bytes(range(251)) * (max(CHUNK, RECV) // 251 + 2)
SALT_UP, SALT_DOWN = 0, 97  # client->server, server->client


def pattern(offset, n):
    o = offset % 251
    p = PAT[o:o + n]
    assert len(p) == n
    return p


class Side:
    def __init__(self):
        self.sent = 0
        self.got = 0
        self.corrupt = 0
        self.first_corrupt = None
        self.resets = 0
        self.errors = []
        self.eof = False
        self.lock = threading.Lock()

    def error(self, what):
        with self.lock:
            self.resets += 1
            self.errors.append(what)

    def result(self, role):
        return {"role": role, "sent": self.sent, "received": self.got,
                "corrupted": self.corrupt, "first_corrupt": self.first_corrupt,
                "resets": self.resets, "errors": self.errors[:5],
                "eof": self.eof}


def receiver(conn, st, salt):
    try:
        while True:
            data = conn.recv(RECV)
            if not data:
                st.eof = True
                return
            exp = pattern(st.got + salt, len(data))
            if data != exp:
                bad = sum(1 for a, b in zip(data, exp) if a != b)
                if st.first_corrupt is None:
                    st.first_corrupt = st.got + next(
                        i for i, (a, b) in enumerate(zip(data, exp)) if a != b)
                st.corrupt += bad
            st.got += len(data)
    except socket.timeout:
        st.error("receive timed out after %d bytes" % st.got)
    except OSError as e:
        st.error("receive after %d bytes: %s" % (st.got, e))


def sender(conn, st, salt, stop, maxs):
    end = time.monotonic() + maxs
    start = time.monotonic()
    try:
        while not stop() and time.monotonic() < end:
            conn.sendall(pattern(st.sent + salt, CHUNK))
            st.sent += CHUNK
            # pace: never more than RATE on average since the start
            ahead = st.sent / RATE - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(min(ahead, 0.2))
        conn.shutdown(socket.SHUT_WR)
    except socket.timeout:
        st.error("send timed out after %d bytes" % st.sent)
    except OSError as e:
        st.error("send after %d bytes: %s" % (st.sent, e))


def progress(path, st, role, done):
    while not done.wait(1.0):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st.result(role), f)
        os.replace(tmp, path)


def run(conn, role, result, stop, maxs):
    st = Side()
    conn.settimeout(TIMEOUT)
    salt_out, salt_in = (SALT_UP, SALT_DOWN) if role == "client" else \
        (SALT_DOWN, SALT_UP)
    done = threading.Event()
    pr = threading.Thread(target=progress,
                          args=(result + ".progress", st, role, done),
                          daemon=True)
    pr.start()
    rx = threading.Thread(target=receiver, args=(conn, st, salt_in),
                          daemon=True)
    rx.start()
    if role == "server":
        # the server sends until the client's direction has ended
        sender(conn, st, salt_out, lambda: st.eof or st.resets > 0, maxs)
    else:
        sender(conn, st, salt_out, stop, maxs)
    rx.join(TIMEOUT + 5)
    if rx.is_alive():
        st.error("receiver still running")
    done.set()
    conn.close()
    with open(result, "w") as f:
        f.write(json.dumps(st.result(role)) + "\n")
    return 0 if st.resets == 0 and st.corrupt == 0 and st.eof else 1


def serve(addr, port, result, maxs="86400"):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(1)
    ls.settimeout(60)
    try:
        conn, _ = ls.accept()
    except socket.timeout:
        with open(result, "w") as f:
            f.write(json.dumps({"role": "server", "resets": 1,
                                "errors": ["no connection"]}) + "\n")
        return 1
    ls.close()
    return run(conn, "server", result, None, float(maxs) + 600)


def send(addr, port, stopfile, maxs, result):
    conn = socket.create_connection((addr, int(port)), timeout=10)
    return run(conn, "client", result, lambda: os.path.exists(stopfile),
               float(maxs))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        sys.exit(serve(*sys.argv[2:6]))
    sys.exit(send(*sys.argv[2:7]))
