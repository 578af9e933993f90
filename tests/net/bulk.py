#!/usr/bin/env python3
"""Bulk data through the tunnel in large writes, so that the kernel hands
the TUN super packets (TSO, UDP GSO) for the daemon to split.

  bulk.py tcp-serve ADDR PORT RESULT      one connection; RESULT gets
                                          "<bytes> <sha256>" of what arrived
  bulk.py tcp-send ADDR PORT BYTES SEED   sends BYTES pseudo-random bytes in
                                          writes of 256 KiB; prints
                                          "<bytes> <sha256>" of what it sent
  bulk.py udp-serve ADDR PORT RESULT      datagrams until 3 s of silence;
                                          RESULT gets "<good> <bad> <dups>"
  bulk.py udp-send ADDR PORT COUNT SIZE   COUNT datagrams of SIZE bytes (the
                                          last of each send shorter), sent
                                          64 at a time with UDP_SEGMENT when
                                          the kernel has it; prints "<sent>"
Each datagram carries its sequence number and length and is filled from
them, so the receiver checks every one on its own. Every wait is bounded.
"""
import hashlib
import random
import socket
import struct
import sys
import time

UDP_SEGMENT = 103


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcp_serve(addr, port, result):
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(1)
    ls.settimeout(60)
    h, n, msg = hashlib.sha256(), 0, None
    try:
        conn, _ = ls.accept()
        conn.settimeout(60)
        while True:
            data = conn.recv(1 << 20)
            if not data:
                break
            h.update(data)
            n += len(data)
        msg = "%d %s" % (n, h.hexdigest())
    except (socket.timeout, ConnectionResetError) as e:
        msg = "FAILED after %d bytes: %s" % (n, e)
    with open(result, "w") as f:
        f.write(msg + "\n")


def tcp_send(addr, port, nbytes, seed):
    rng = random.Random(int(seed))
    s = socket.create_connection((addr, int(port)), timeout=10)
    s.settimeout(60)
    h, left = hashlib.sha256(), int(nbytes)
    while left:
        # odd sizes too: not every write a multiple of the segment size
        k = min(left, 262144 - rng.randrange(0, 4000))
        data = rng.randbytes(k)
        s.sendall(data)
        h.update(data)
        left -= k
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print("%s %s" % (nbytes, h.hexdigest()))


def datagram(seq, size):
    head = struct.pack("!II", seq, size)
    body = random.Random(seq * 65537 + size).randbytes(size - len(head))
    return head + body


def udp_serve(addr, port, result):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, int(port)))
    s.settimeout(30)
    good = bad = dups = 0
    seen = set()
    try:
        while True:
            d = s.recv(65536)
            s.settimeout(3)
            if len(d) < 8:
                bad += 1
                continue
            seq, size = struct.unpack("!II", d[:8])
            if size != len(d) or d != datagram(seq, size):
                bad += 1
            elif seq in seen:
                dups += 1
            else:
                seen.add(seq)
                good += 1
    except socket.timeout:
        pass
    with open(result, "w") as f:
        f.write("%d %d %d\n" % (good, bad, dups))


def udp_send(addr, port, count, size):
    count, size = int(count), int(size)
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    gso = True
    try:
        s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, size)
    except OSError:
        gso = False
    seq = 0
    while seq < count:
        n = min(40, count - seq)
        # the last one of each send shorter: GSO's odd tail
        sizes = [size] * (n - 1) + [size - 1 - seq % 97]
        buf = b"".join(datagram(seq + i, sizes[i]) for i in range(n))
        if gso:
            s.send(buf)
        else:
            for i in range(n):
                s.send(datagram(seq + i, sizes[i]))
        seq += n
        time.sleep(0.002)          # paced: UDP has no flow control
    print("%d %s" % (seq, "gso" if gso else "plain"))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"tcp-serve": tcp_serve, "tcp-send": tcp_send,
     "udp-serve": udp_serve, "udp-send": udp_send}[cmd](*args)
