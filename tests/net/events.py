#!/usr/bin/env python3
"""Reads jvpn audit JSONL for the namespace tests.

  events.py has FILE k=v...            exit 0 if one event has all fields
  events.py seq FILE "k=v,k=v" ...     exit 0 if matching events appear in order
  events.py count FILE k=v...          prints how many events match
  events.py sessions FILE...           prints how many session ids appear
  events.py timeline FILE              a readable timeline
  events.py reattach PCAP OUT          writes the last reattach request found
                                       in a pcap (UDP payload) to OUT
"""
import json
import struct
import sys


def load(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def text(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def matches(ev, kvs):
    for kv in kvs:
        k, _, v = kv.partition("=")
        if text(ev.get(k)) != v:
            return False
    return True


def main(argv):
    cmd = argv[1]
    if cmd == "has":
        return 0 if any(matches(e, argv[3:]) for e in load(argv[2])) else 1
    if cmd == "count":
        print(sum(1 for e in load(argv[2]) if matches(e, argv[3:])))
        return 0
    if cmd == "seq":
        evs = load(argv[2])
        i = 0
        for group in argv[3:]:
            kvs = group.split(",")
            while i < len(evs) and not matches(evs[i], kvs):
                i += 1
            if i == len(evs):
                print("not found in order: " + group, file=sys.stderr)
                return 1
            i += 1
        return 0
    if cmd == "sessions":
        ids = set()
        for p in argv[2:]:
            ids |= {e["session_id"] for e in load(p) if "session_id" in e}
        print(len(ids))
        return 0
    if cmd == "timeline":
        for e in load(argv[2]):
            t = e.get("event_type")
            what = ""
            if t == "SessionStateChange":
                what = "%s -> %s (%s)" % (e.get("previous_state"),
                                          e.get("new_state"),
                                          e.get("reason_code"))
            elif t in ("TransportSwitch",):
                what = "switch %s -> %s" % (e.get("previous_transport"),
                                            e.get("new_transport"))
            else:
                what = " ".join("%s=%s" % (k, text(e[k])) for k in
                                ("transport_id", "reason_code", "status",
                                 "candidate_transport") if k in e)
            print("%d %-7s %-24s %s" % (e.get("ts_ms", 0) % 100000000,
                                        e.get("role"), t, what))
        return 0
    if cmd == "reattach":
        return extract_reattach(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


def extract_reattach(pcap, out):
    """Last UDP payload that is a jvpn reattach request: type 4 (control),
    subtype 5, 102 bytes (16 header + 70 body + 16 tag)."""
    data = open(pcap, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off, found = 24, None
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:          # Ethernet
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif linktype == 113:      # Linux cooked
            ip = pkt[16:]
        else:
            ip = pkt
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        payload = ip[ihl + 8:]
        if len(payload) == 102 and payload[0] == 4 and payload[1] == 5:
            found = payload
    if found is None:
        print("no reattach request in " + pcap, file=sys.stderr)
        return 1
    open(out, "wb").write(found)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
