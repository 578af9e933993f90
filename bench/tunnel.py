#!/usr/bin/env python3
"""Reads what bench/tunnel.sh measured and prints its results table.

  tunnel.py iperf JSON        "BITS_PER_S RETRANSMITS BYTES" (TCP) or
                              "RECEIVED_PPS OFFERED_PPS" (UDP)
  tunnel.py ping FILE         "MEDIAN_MS P95_MS LOSS_PERCENT" of ping's output
  tunnel.py progress LOG      the bytes the stream's receiver has so far
  tunnel.py report DIR        the table and the targets, from DIR/results,
                              DIR/cuts and DIR/streams; writes DIR/plot-*.dat
                              for the first silent cut of each tunnel (and plot-restore.txt)

A cut's stall (docs/PERFORMANCE.md "Tunnel"): t0 is the time just before
the command that cuts, tc the time it returned (the cut in effect). The
sender's first write that starts at or after tc begins at byte offset o;
the stall is the time from t0 to the receiver's first read that reaches
past o (TCP delivers in order: everything before it is there too). The old
path carries nothing after tc, so that byte came over the new one; the
cut command's own time (tc - t0, a few ms) is counted in. Not delivered
before the path was restored: no recovery within the cap. An undisturbed
stream shows the sending interval (5 ms) plus the machine's scheduling
delays.
"""
import json
import math
import os
import re
import sys


def pct(xs, p):
    """The p-th percentile, nearest rank."""
    if not xs:
        return None
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def iperf(path):
    try:
        j = json.load(open(path))
        end = j["end"]
        udp = j["start"]["test_start"]["protocol"] == "UDP"
    except (OSError, ValueError, KeyError):
        return None
    if not udp:
        r = end["sum_received"]
        return (r["bits_per_second"], end["sum_sent"].get("retransmits", 0),
                r["bytes"])
    # UDP: the datagrams the server received (its bytes over the datagram
    # size) and those the client sent, a second
    blk = j["start"]["test_start"]["blksize"]
    r, s = end["sum_received"], end["sum_sent"]
    return (r["bytes"] / blk / (r["seconds"] or 1), s["packets"] / (s["seconds"] or 1))


def ping(path):
    rtts, sent, got = [], 0, 0
    try:
        text = open(path).read()
    except OSError:
        return None
    for m in re.finditer(r"time=([0-9.]+) ms", text):
        rtts.append(float(m.group(1)))
    m = re.search(r"(\d+) packets transmitted, (\d+) received", text)
    if m:
        sent, got = int(m.group(1)), int(m.group(2))
    if not rtts:
        return None
    return (pct(rtts, 50), pct(rtts, 95),
            100.0 * (sent - got) / sent if sent else 0.0)


def load_log(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 2:
                    out.append((float(p[0]), int(p[1])))
    except OSError:
        pass
    return out


def stall(rlog, slog, t0, tc, tr):
    """Seconds from t0 to the delivery of the first byte written after tc,
    or None."""
    o = None
    for t, sent in slog:
        if t >= tc:
            o = sent
            break
    if o is None:
        return None
    for t, got in rlog:
        if got > o:
            return t - t0 if t < tr else None
    return None


def results(path):
    r = {}
    try:
        for line in open(path):
            k, _, v = line.strip().partition("=")
            if k:
                r[k] = v
    except OSError:
        pass
    return r


def fmt(v, f="%.1f"):
    return "-" if v is None else f % v


def report(d):
    r = results(os.path.join(d, "results"))
    tun = ("none", "jvpn", "wg")
    names = {"none": "no tunnel", "jvpn": "jvpn", "wg": "wireguard-go"}
    rows = []

    def val(t, k):
        v = r.get("%s.%s" % (t, k))
        return float(v) if v not in (None, "") else None

    def row(label, f):
        rows.append("%-34s %s" % (label, " ".join("%16s" % f(t) for t in tun)))

    print("%-34s %s" % ("", " ".join("%16s" % names[t] for t in tun)))
    row("TCP 1 stream, Mbit/s", lambda t: fmt(val(t, "tcp1.bps") and val(t, "tcp1.bps") / 1e6))
    row("  iperf3 retransmissions", lambda t: fmt(val(t, "tcp1.retr"), "%d"))
    row("  daemons' CPU s per Gbit", lambda t: fmt(val(t, "tcp1.cpu_per_gbit"), "%.2f"))
    row("  ping under it, median/p95 ms", lambda t: "-" if val(t, "ping.med") is None else
        "%.2f/%.2f" % (val(t, "ping.med"), val(t, "ping.p95")))
    row("  ping lost, %", lambda t: fmt(val(t, "ping.loss")))
    row("TCP 4 streams, Mbit/s", lambda t: fmt(val(t, "tcp4.bps") and val(t, "tcp4.bps") / 1e6))
    row("  iperf3 retransmissions", lambda t: fmt(val(t, "tcp4.retr"), "%d"))
    row("  daemons' CPU s per Gbit", lambda t: fmt(val(t, "tcp4.cpu_per_gbit"), "%.2f"))
    row("UDP 64 B, received kpps", lambda t: fmt(val(t, "udp.pps") and val(t, "udp.pps") / 1e3))
    row("  offered kpps", lambda t: fmt(val(t, "udp.offered") and val(t, "udp.offered") / 1e3))
    print("\n".join(rows))

    # failover
    cuts = []
    try:
        for line in open(os.path.join(d, "cuts")):
            p = line.split()
            if len(p) == 8:
                cuts.append((p[0], p[1], p[2], float(p[4]), float(p[6]), float(p[7]), p[3],
                             float(p[5])))
    except OSError:
        pass
    logs = {}
    st = {}
    for t, kind, log, t0, tr, cap, slog, tc in cuts:
        for f in (log, slog):
            if f not in logs:
                logs[f] = load_log(f)
        s = stall(logs[log], logs[slog], t0, tc, tr)
        st.setdefault((t, kind), []).append((s, cap, t0))
    streams = {}
    try:
        for line in open(os.path.join(d, "streams")):
            p = line.split()
            if len(p) == 4:
                streams.setdefault(p[0], []).append(p[1:])
    except OSError:
        pass

    print()
    print("failover: stall from the cut to the delivery of the stream's first byte written after it, ms")
    print("%-34s %24s %24s" % ("", "jvpn", "wireguard-go"))
    out = {}

    def cell(t, kinds):
        xs = []
        for k in kinds:
            xs += st.get((t, k), [])
        if not xs:
            return "-", None, 0
        ok = [s * 1000 for s, _, _ in xs if s is not None]
        lost = len(xs) - len(ok)
        cap = max(c for _, c, _ in xs)
        p95 = pct(ok, 95) if not lost else None
        txt = "n=%d" % len(xs)
        if ok:
            txt += " %d/%s" % (pct(ok, 50), "%d" % p95 if p95 is not None else ">%ds" % cap)
        if lost:
            txt += " (%d: none in %d s)" % (lost, cap)
        return txt, p95, lost

    for label, kinds in (("silent cut, median/p95", ("silent",)),
                         ("link down, median/p95", ("down",)),
                         ("link down 2 s after start", ("down2s",)),
                         ("link down, all", ("down", "down2s"))):
        cells = []
        for t in ("jvpn", "wg"):
            txt, p95, lost = cell(t, kinds)
            out[(t, label)] = (p95, lost)
            cells.append(txt)
        print("%-34s %24s %24s" % (label, cells[0], cells[1]))

    resets, lost = {}, {}
    for t in ("jvpn", "wg"):
        rs, lb = 0, 0
        for sid, res, snd in streams.get(t, []):
            try:
                rtext = open(res).read().strip()
            except OSError:
                rtext = "no result"
            try:
                stext = open(snd).read().strip()
            except OSError:
                stext = ""
            m = re.search(r"sent (\d+) bytes", stext) or re.search(r"after (\d+) bytes", stext)
            sent = int(m.group(1)) if m else None
            m = re.search(r"(\d+)", rtext)
            got = int(m.group(1)) if m else 0
            if not rtext.startswith("OK") or "reset" in stext or "timed out" in stext:
                rs += 1
            if sent is not None:
                lb += max(0, sent - got)
        resets[t], lost[t] = rs, lb
    cmd = [(c[7] - c[3]) * 1000 for c in cuts]
    if cmd:
        print("%-34s %24s" % ("the cut command took, median/max", "%.1f/%.1f ms (counted in)"
                              % (pct(cmd, 50), max(cmd))))
    print("%-34s %24s %24s" % ("inner TCP streams", len(streams.get("jvpn", [])),
                                len(streams.get("wg", []))))
    print("%-34s %24s %24s" % ("  reset or failed", resets["jvpn"], resets["wg"]))
    print("%-34s %24s %24s" % ("  bytes lost (sent - received)", lost["jvpn"], lost["wg"]))

    # the plot's data: the first silent cut of each tunnel, from 1 s
    # before it to 30 s after or the stream's next cut, bytes delivered
    # since the cut (a last point at the end: the plot draws steps); and
    # when the path came back (plot-restore.txt)
    with open(os.path.join(d, "plot-restore.txt"), "w") as rf:
        for t in ("jvpn", "wg"):
            mine = [c for c in cuts if c[0] == t]
            first = [i for i, c in enumerate(mine) if c[1] == "silent"]
            with open(os.path.join(d, "plot-%s.dat" % t), "w") as f:
                if not first:
                    rf.write("%s -1\n" % t)
                    continue
                i = first[0]
                log, t0, tr = mine[i][2], mine[i][3], mine[i][4]
                stop = t0 + 30
                if i + 1 < len(mine) and mine[i + 1][2] == log:
                    stop = min(stop, mine[i + 1][3])
                b0 = 0
                for tt, b in logs[log]:
                    if tt < t0:
                        b0 = b
                last = b0
                for tt, b in logs[log]:
                    if t0 - 1 <= tt < stop:
                        f.write("%.4f %.1f\n" % (tt - t0, (b - b0) / 1000))
                        last = b
                f.write("%.4f %.1f\n" % (stop - t0, (last - b0) / 1000))
                rf.write("%s %.3f\n" % (t, tr - t0))

    # the targets
    print()
    print("targets:")

    def target(text, ok, got):
        print("  %-62s %-28s %s" % (text, got, "met" if ok else "missed"))

    p95, nl = out[("jvpn", "silent cut, median/p95")]
    target("silent cut: inner TCP stall p95 < 300 ms", p95 is not None and p95 < 300,
           "p95 %s ms" % fmt(p95, "%d") if nl == 0 else "%d without recovery" % nl)
    p95, nl = out[("jvpn", "link down, all")]
    target("link down (2 s after start included): p95 < 50 ms", p95 is not None and p95 < 50,
           "p95 %s ms" % fmt(p95, "%d") if nl == 0 else "%d without recovery" % nl)
    ncuts = len(st.get(("jvpn", "silent"), [])) + len(st.get(("jvpn", "down"), [])) + \
        len(st.get(("jvpn", "down2s"), []))
    target("0 inner TCP resets over the %d cuts" % ncuts, resets["jvpn"] == 0,
           "%d resets, %d bytes lost" % (resets["jvpn"], lost["jvpn"]))
    j, w, n = val("jvpn", "tcp1.bps"), val("wg", "tcp1.bps"), val("none", "tcp1.bps")
    target("single-stream TCP >= 3 x wireguard-go's", bool(j and w and j >= 3 * w),
           "%sx" % fmt(j / w if j and w else None, "%.2f"))
    target("single-stream TCP >= 0.25 x no tunnel", bool(j and n and j >= 0.25 * n),
           "%sx" % fmt(j / n if j and n else None, "%.2f"))
    jr, wr = val("jvpn", "tcp1.retr"), val("wg", "tcp1.retr")
    target("iperf3 retransmissions <= wireguard-go's", jr is not None and wr is not None and jr <= wr,
           "%s vs %s" % (fmt(jr, "%d"), fmt(wr, "%d")))
    return 0


def main(argv):
    cmd = argv[1]
    if cmd == "iperf":
        v = iperf(argv[2])
        print(" ".join("%d" % x for x in v) if v else "")
        return 0
    if cmd == "ping":
        v = ping(argv[2])
        print(" ".join("%.3f" % x for x in v) if v else "")
        return 0
    if cmd == "progress":
        log = load_log(argv[2])
        print(log[-1][1] if log else 0)
        return 0
    if cmd == "report":
        return report(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
