#!/usr/bin/env python3
"""An inner TCP stream through the tunnel, to show it survives switches.

  stream.py serve ADDR PORT RESULT   (ADDR IPv4 or IPv6) accepts one connection, checks that the
                                     bytes are the expected sequence, writes
                                     "OK <bytes>" or what went wrong to RESULT
  stream.py send ADDR PORT SECONDS   sends the sequence for SECONDS at about
                                     50 KB/s, then closes; exit 1 on a reset
Every wait is bounded.
"""
import socket
import sys
import time

CHUNK = 1000


def pattern(offset, n):
    return bytes((offset + i) % 251 for i in range(n))


def serve(addr, port, result):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(1)
    ls.settimeout(60)
    got, msg = 0, None
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
        if msg is None:
            msg = "OK %d" % got
            conn.sendall(b"DONE\n")
        conn.close()
    except ConnectionResetError:
        msg = "RESET after %d bytes" % got
    except socket.timeout:
        msg = "TIMEOUT after %d bytes" % got
    with open(result, "w") as f:
        f.write(msg + "\n")
    return 0 if msg.startswith("OK") else 1


def send(addr, port, seconds):
    s = socket.create_connection((addr, int(port)), timeout=10)
    s.settimeout(60)
    end = time.time() + float(seconds)
    sent = 0
    try:
        while time.time() < end:
            s.sendall(pattern(sent, CHUNK))
            sent += CHUNK
            time.sleep(0.02)
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
        sys.exit(serve(*sys.argv[2:5]))
    sys.exit(send(*sys.argv[2:5]))
