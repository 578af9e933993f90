#!/usr/bin/env python3
"""An inner TCP stream through the tunnel, to show it survives switches.

  stream.py serve ADDR PORT RESULT [LOG]
        (ADDR IPv4 or IPv6) accepts one connection, checks that the bytes
        are the expected sequence, writes "OK <bytes>" or what went wrong
        to RESULT; with LOG, one line per receive: the wall-clock time
        (CLOCK_REALTIME, seconds) and the bytes received so far
  stream.py send ADDR PORT SECONDS [INTERVAL_MS [STOPFILE [LOG]]]
        sends 1000 bytes every INTERVAL_MS (20: about 50 KB/s) for SECONDS
        or until STOPFILE exists, then closes; exit 1 on a reset; with
        LOG, one line per write: the time it started and the bytes
        written before it
Every wait is bounded.
"""
import os
import socket
import sys
import time

CHUNK = 1000
PAT = bytes(range(251)) * (65536 // 251 + 2)


def pattern(offset, n):
    out = b""
    while n > 0:
        o = offset % 251
        k = min(n, len(PAT) - o)
        out += PAT[o:o + k]
        offset += k
        n -= k
    return out


def serve(addr, port, result, logpath=None):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(1)
    ls.settimeout(60)
    got, msg = 0, None
    log = open(logpath, "w") if logpath else None
    try:
        conn, _ = ls.accept()
        conn.settimeout(60)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            if data != pattern(got, len(data)):
                msg = "CORRUPT at byte %d" % got
                break
            got += len(data)
            if log:
                log.write("%.6f %d\n" % (time.time(), got))
                log.flush()
        if msg is None:
            msg = "OK %d" % got
            conn.sendall(b"DONE\n")
        conn.close()
    except ConnectionResetError:
        msg = "RESET after %d bytes" % got
    except socket.timeout:
        msg = "TIMEOUT after %d bytes" % got
    if log:
        log.close()
    with open(result, "w") as f:
        f.write(msg + "\n")
    return 0 if msg.startswith("OK") else 1


def send(addr, port, seconds, interval_ms="20", stopfile=None, logpath=None):
    log = open(logpath, "w") if logpath else None
    s = socket.create_connection((addr, int(port)), timeout=10)
    s.settimeout(60)
    end = time.time() + float(seconds)
    sent = 0
    try:
        while time.time() < end:
            if stopfile and os.path.exists(stopfile):
                break
            if log:
                log.write("%.6f %d\n" % (time.time(), sent))
                log.flush()
            s.sendall(pattern(sent, CHUNK))
            sent += CHUNK
            time.sleep(float(interval_ms) / 1000)
        s.shutdown(socket.SHUT_WR)
        reply = s.recv(16)
    except (ConnectionResetError, BrokenPipeError) as e:
        print("stream reset after %d bytes: %s" % (sent, e))
        return 1
    except socket.timeout:
        print("stream timed out after %d bytes" % sent)
        return 1
    print("sent %d bytes, server said %r" % (sent, reply))
    return 0 if reply.startswith(b"DONE") else 1


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        sys.exit(serve(*sys.argv[2:6]))
    sys.exit(send(*sys.argv[2:8]))
