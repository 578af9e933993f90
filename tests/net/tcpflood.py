#!/usr/bin/env python3
"""TCP connections that never handshake, against the gateway's TCP listener
(issue #7). Bounded in count and time; only to the address given, which the
namespace tests create.

  tcpflood.py hold DST PORT N SECONDS SRC...
      keeps N idle connections open (spread over the source addresses),
      opening a new one whenever the gateway closes one (at most 500 opens
      a second), for SECONDS. Prints "ready" once N are open, then
      "opened X closed Y" at the end.
  tcpflood.py idle DST PORT N SECONDS
      opens N idle connections, never reopens; after SECONDS prints how
      many the gateway closed: "closed Y of N".
  tcpflood.py junk DST PORT SECONDS
      one connection sending junk frames shaped like handshake
      initiations as fast as it can for SECONDS (reconnecting when closed). Prints "sent BYTES".
"""
import os
import select
import socket
import sys
import time

MAX_N = 1000
MAX_SECONDS = 120
HS_INIT_LEN = 210      # proto/wire.h JV_HS_INIT_LEN


def dial(dst, port, src=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\0" * 8)
    if src:
        s.bind((src, 0))
    s.settimeout(2)
    s.connect((dst, port))
    s.setblocking(False)
    return s


def closed(s):
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def hold(dst, port, n, seconds, srcs):
    end = time.monotonic() + seconds
    live, opened, gone = [], 0, 0
    while len(live) < n and time.monotonic() < end:
        live.append(dial(dst, port, srcs[opened % len(srcs)]))
        opened += 1
    print("ready", flush=True)
    while time.monotonic() < end:
        r, _, _ = select.select(live, [], [], 0.2)
        for s in r:
            if closed(s):
                s.close()
                live.remove(s)
                gone += 1
        budget = 50        # 500 a second at most
        while len(live) < n and budget > 0:
            try:
                live.append(dial(dst, port, srcs[opened % len(srcs)]))
            except OSError:
                pass
            opened += 1
            budget -= 1
        time.sleep(0.1)
    print("opened %d closed %d" % (opened, gone), flush=True)


def idle(dst, port, n, seconds):
    live = [dial(dst, port) for _ in range(n)]
    end = time.monotonic() + seconds
    gone = set()
    while time.monotonic() < end and len(gone) < n:
        r, _, _ = select.select([s for s in live if s not in gone], [], [],
                                0.2)
        for s in r:
            if closed(s):
                gone.add(s)
    print("closed %d of %d" % (len(gone), n), flush=True)


def junk(dst, port, seconds):
    end = time.monotonic() + seconds
    sent = 0
    # shaped like handshake initiations (type 1, 210 bytes): without the
    # server's public key their mac1 is wrong, so the gateway drops each
    # after one keyed hash, before any Diffie-Hellman (it used to cost a DH)
    frames = []
    for _ in range(256):
        body = b"\x01\0\0\0" + os.urandom(HS_INIT_LEN - 4)
        frames.append(len(body).to_bytes(2, "big") + body)
    blob = b"".join(frames)
    while time.monotonic() < end:
        s = None
        try:
            s = dial(dst, port)
            s.setblocking(True)
            s.settimeout(0.5)
            while time.monotonic() < end:
                s.sendall(blob)     # whole frames: a partial one ends it
                sent += len(blob)
        except OSError:
            time.sleep(0.05)
        if s:
            s.close()
    print("sent %d" % sent, flush=True)


def main():
    mode, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "junk":
        junk(dst, port, min(float(sys.argv[4]), MAX_SECONDS))
        return
    n = min(int(sys.argv[4]), MAX_N)
    seconds = min(float(sys.argv[5]), MAX_SECONDS)
    if mode == "hold":
        hold(dst, port, n, seconds, sys.argv[6:] or [None])
    elif mode == "idle":
        idle(dst, port, n, seconds)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
