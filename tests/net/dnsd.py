#!/usr/bin/env python3
"""A tiny UDP DNS responder for the namespace tests.

Usage: dnsd.py ADDRESS NAME ANSWER_IPV4 [LOG]

Answers A queries for NAME (case-insensitive) with ANSWER_IPV4, TTL 0;
other types for NAME with an empty answer (NOERROR), other names with
NXDOMAIN. Binds ADDRESS:53 with IP_FREEBIND, so it may start before the
address exists (a TUN device not up yet). Each query is logged to LOG
("QNAME QTYPE"), if given, so a test sees which resolver was asked.
"""
import socket
import struct
import sys

IP_FREEBIND = 15


def qname(msg, off):
    labels = []
    while True:
        n = msg[off]
        off += 1
        if n == 0:
            return ".".join(labels), off
        if n & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n


def answer(msg, name, ip):
    ident, flags, qd = struct.unpack("!HHH", msg[:6])
    if flags & 0x8000 or qd != 1:
        return None, None
    q, off = qname(msg, 12)
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    question = msg[12:off + 4]
    rd = flags & 0x0100
    if q.lower().rstrip(".") != name:
        head = struct.pack("!HHHHHH", ident, 0x8080 | rd | 3, 1, 0, 0, 0)
        return head + question, (q, qtype)
    if qtype != 1 or qclass != 1:
        head = struct.pack("!HHHHHH", ident, 0x8480 | rd, 1, 0, 0, 0)
        return head + question, (q, qtype)
    head = struct.pack("!HHHHHH", ident, 0x8480 | rd, 1, 1, 0, 0)
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 0, 4) + socket.inet_aton(ip)
    return head + question + rr, (q, qtype)


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    addr, name, ip = argv[1], argv[2].lower().rstrip("."), argv[3]
    log = open(argv[4], "a", buffering=1) if len(argv) > 4 else None
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
    s.bind((addr, 53))
    while True:
        msg, peer = s.recvfrom(512)
        try:
            reply, q = answer(msg, name, ip)
        except (IndexError, ValueError, struct.error):
            continue
        if reply is None:
            continue
        if log:
            log.write("%s %d\n" % q)
        s.sendto(reply, peer)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
