/* Writes the generated seed corpora (docs/FUZZING.md): genuine sealed
 * packets and handshakes from a real client and server built by the
 * harness, as records (fuzz.h) the endpoint targets replay exactly, and
 * the bytes the wire and TCP decoders see. Deterministic: the same engine
 * gives the same files. Usage: fuzz_seeds OUTDIR; OUTDIR/TARGET/NAME.
 * Each endpoint seed is applied through the harness as it is written, and
 * checked to reach what it is for, so a seed that no longer does (the
 * protocol changed) fails here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"
#include "io/tcp.h"

static const char *outdir;

struct gen {
	struct world w;
	struct node *t, *o;       /* the target, the other end */
	uint8_t buf[1 << 16];
	size_t len;
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_seeds: %s\n", what);
	exit(1);
}

static void write_file(const char *target, const char *name,
		       const uint8_t *b, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0)
		die(path);
}

/* Appends the record at the end of g->buf from `from` on and applies it
 * to the target through the harness, exactly as the target will. */
static void apply(struct gen *g, size_t from)
{
	const uint8_t *p = g->buf + from;
	size_t left = g->len - from;

	if (!fz_record(&g->w, g->t, &p, &left) || left != 0)
		die("a record did not apply whole");
}

static void op(struct gen *g, unsigned path, unsigned adv, unsigned what)
{
	size_t from = g->len;

	g->buf[g->len++] = FZ_HDR(path, 0, adv, what);
	apply(g, from);
	jv_endpoint_tick(g->o->ep, g->w.now);
}

static void dgram(struct gen *g, const struct dgram *d)
{
	size_t from = g->len;
	unsigned path = g->t == &g->w.s ? d->path.local : d->path.addr[0];

	if (g->len + 3 + d->len > sizeof(g->buf))
		die("seed too long");
	g->buf[g->len++] = FZ_HDR(path & 3, d->path.proto == JV_PROTO_TCP, 0,
				  0);
	g->buf[g->len++] = (uint8_t)d->len;
	g->buf[g->len++] = (uint8_t)(d->len >> 8);
	memcpy(g->buf + g->len, d->buf, d->len);
	g->len += d->len;
	apply(g, from);
}

/* Until both ends are quiet: what the other end sends becomes records
 * for the target; what the target answers is delivered to the other. */
static void pump_records(struct gen *g)
{
	static struct dgram q[MAXQ];

	for (int round = 0; round < 16 && (g->o->nout || g->t->nout); round++) {
		int n = g->o->nout;

		memcpy(q, g->o->out, sizeof(q[0]) * (size_t)n);
		g->o->nout = 0;
		for (int i = 0; i < n; i++)
			dgram(g, &q[i]);
		n = g->t->nout;
		memcpy(q, g->t->out, sizeof(q[0]) * (size_t)n);
		g->t->nout = 0;
		for (int i = 0; i < n; i++)
			world_deliver(&g->w, g->o, &q[i]);
	}
}

/* A seed for the server or the client, which starts in BIRTH or after a
 * real handshake (fuzz_client's first byte says which). */
static void begin(struct gen *g, bool server, bool attached)
{
	memset(g, 0, sizeof(*g));
	fz_world_init(&g->w);
	g->t = server ? &g->w.s : &g->w.c;
	g->o = server ? &g->w.c : &g->w.s;
	if (!server)
		g->buf[g->len++] = attached;
	if (attached)
		fz_handshake(&g->w);
}

static void end(struct gen *g, const char *target, const char *name)
{
	write_file(target, name, g->buf, g->len);
	world_fini(&g->w);
}

/* n inner packets from the other end to the target, carried over. */
static void data_to_target(struct gen *g, int n)
{
	const uint32_t client = 0x0a4d0002, server = 0x0a4d0001;
	uint8_t pkt[40];

	for (int i = 0; i < n; i++)
		jv_endpoint_send_inner(g->o->ep, g->t == &g->w.s
					       ? ipv4(pkt, client, server)
					       : ipv4(pkt, server, client),
				       40, g->w.now);
	pump_records(g);
}

/* Heartbeats and probes both ways for a while. */
static void chatter(struct gen *g, int turns)
{
	for (int i = 0; i < turns; i++) {
		op(g, 0, 4, 1);
		if (g->t == &g->w.s)
			jv_endpoint_tick(g->o->ep, g->w.now);
		pump_records(g);
	}
}

/* The seeds both ends get after the handshake, named prefix + "data"
 * (the other end's data) and prefix + "heartbeats". */
static void attached_seeds(struct gen *g, bool server, const char *target,
			   const char *prefix)
{
	char name[64];

	begin(g, server, true);
	data_to_target(g, 3);
	if (g->t->delivered != 3) {
		snprintf(name, sizeof(name), "%s: data not delivered", target);
		die(name);
	}
	snprintf(name, sizeof(name), "%sdata", prefix);
	end(g, target, name);

	begin(g, server, true);
	chatter(g, 8);
	snprintf(name, sizeof(name), "%sheartbeats", prefix);
	end(g, target, name);
}

static void server_seeds(void)
{
	static struct gen g;

	/* before any handshake: the client's genuine HS_INIT, then what it
	 * sends once attached */
	begin(&g, true, false);
	jv_endpoint_start(g.w.c.ep, 0);
	pump_records(&g);
	if (node_stats(&g.w.s).handshakes_ok != 1)
		die("server_pre: no handshake");
	end(&g, "server_pre", "hs_init");
	begin(&g, true, false);
	jv_endpoint_start(g.w.c.ep, 0);
	pump_records(&g);
	data_to_target(&g, 1);
	chatter(&g, 3);
	if (g.w.s.delivered != 1)
		die("server_pre: no data");
	end(&g, "server_pre", "hs_init_data");

	/* after the handshake */
	attached_seeds(&g, true, "server", "");
	begin(&g, true, true);
	chatter(&g, 2);
	jv_endpoint_transport_down(g.w.c.ep, 0, JV_R_LINK_DOWN, g.w.now);
	pump_records(&g);
	chatter(&g, 4);
	if (node_stats(&g.w.s).reattach_ok < 1)
		die("server: no reattach");
	end(&g, "server", "reattach");

	begin(&g, true, true);
	jv_endpoint_terminate(g.w.c.ep, NULL, JV_R_OPERATOR_TERMINATED,
			      g.w.now);
	pump_records(&g);
	chatter(&g, 2);
	end(&g, "server", "terminate");
}

static void client_seeds(void)
{
	static struct gen g;

	/* in BIRTH: the server's genuine HS_RESP */
	begin(&g, false, false);
	jv_endpoint_start(g.w.c.ep, 0);
	pump_records(&g);
	if (jv_endpoint_client_state(g.w.c.ep) != JV_STATE_ATTACHED)
		die("client: HS_RESP did not attach");
	chatter(&g, 4);
	end(&g, "client", "birth_hs_resp");

	attached_seeds(&g, false, "client", "attached_");
	begin(&g, false, true);
	chatter(&g, 2);
	op(&g, 0, 0, 2);                       /* udp-a goes down */
	pump_records(&g);
	chatter(&g, 4);
	if (node_stats(&g.w.s).reattach_ok < 1)
		die("client: no reattach");
	op(&g, 0, 0, 3);                       /* and comes back */
	chatter(&g, 4);
	end(&g, "client", "attached_reattach");

	begin(&g, false, true);
	jv_endpoint_terminate(g.w.s.ep, NULL, JV_R_OPERATOR_TERMINATED,
			      g.w.now);
	pump_records(&g);
	end(&g, "client", "attached_terminate");
}

/* The decoders' own inputs, cut from genuine traffic. */
static void tcp_add(uint8_t *b, size_t *n, const struct dgram *d)
{
	jv_put_be16(b + *n, (uint16_t)d->len);
	memcpy(b + *n + JV_TCP_LEN_BYTES, d->buf, d->len);
	*n += JV_TCP_LEN_BYTES + d->len;
}

static void wire_seeds(void)
{
	static struct world w;
	static uint8_t b[4 * JV_TCP_FRAME_MAX];
	struct jv_hs_init_payload pl;
	struct jv_ctrl c;
	uint8_t out[JV_CTRL_MAX_BODY + 1], pkt[40];
	size_t n = 1;                         /* b[0]: fuzz_tcp's chunk size */
	char name[32];

	b[0] = 7;
	fz_world_init(&w);
	jv_endpoint_start(w.c.ep, 0);
	write_file("wire_hs_hdr", "hs_init", w.c.out[0].buf, w.c.out[0].len);
	write_file("wire_hdr", "hs_init", w.c.out[0].buf, w.c.out[0].len);
	tcp_add(b, &n, &w.c.out[0]);
	world_deliver(&w, &w.s, &w.c.out[0]);
	write_file("wire_hs_hdr", "hs_resp", w.s.out[0].buf, w.s.out[0].len);
	tcp_add(b, &n, &w.s.out[0]);
	world_deliver(&w, &w.c, &w.s.out[0]);
	w.c.nout = w.s.nout = 0;
	jv_endpoint_send_inner(w.c.ep, ipv4(pkt, 0x0a4d0002, 0x0a4d0001), 40,
			       0);
	write_file("wire_hdr", "data", w.c.out[0].buf, w.c.out[0].len);
	tcp_add(b, &n, &w.c.out[0]);
	write_file("tcp", "three_frames", b, n);
	b[n++] = 0;
	b[n++] = 40;                          /* and an incomplete one */
	write_file("tcp", "partial", b, n + 10);
	world_fini(&w);

	memset(&pl, 0, sizeof(pl));
	for (int i = 0; i < 16; i++)
		pl.session_id[i] = (uint8_t)i;
	pl.timestamp_ms = 1234567;
	jv_wire_tid_set(&pl.tid, JV_WIRE_PROTO_UDP, "udp-a");
	jv_hs_init_payload_encode(&pl, out);
	write_file("wire_hs_init", "udp", out, JV_HS_INIT_PAYLOAD);
	jv_wire_tid_set(&pl.tid, JV_WIRE_PROTO_TCP,
			"tcp.backup-link:443-0123456789ab");
	memset(pl.prev_session_id, 0xab, 16);
	jv_hs_init_payload_encode(&pl, out);
	write_file("wire_hs_init", "tcp_long_id", out, JV_HS_INIT_PAYLOAD);

	/* one control body of each type, led by its subtype byte */
	for (int t = 1; t <= JV_CTRL__LAST; t++) {
		int len;

		memset(&c, 0, sizeof(c));
		c.type = (uint8_t)t;
		switch (t) {
		case JV_CTRL_REATTACH_REQ:
			memset(c.u.req.session_id, 7, 16);
			c.u.req.counter = 5;
			c.u.req.timestamp_ms = 60000;
			c.u.req.attach_epoch = 1;
			jv_wire_tid_set(&c.u.req.tid, JV_WIRE_PROTO_TCP,
					"tcp-b");
			break;
		case JV_CTRL_REATTACH_ACK:
			c.u.ack.req_counter = 5;
			c.u.ack.attach_epoch = 2;
			break;
		case JV_CTRL_REATTACH_DENY:
			c.u.deny.req_counter = 5;
			c.u.deny.reason = JV_WR_RATE_LIMITED;
			break;
		case JV_CTRL_TERMINATE:
			c.u.term.reason = JV_WR_OPERATOR_TERMINATED;
			break;
		case JV_CTRL_PATH_CHALLENGE:
		case JV_CTRL_PATH_RESPONSE:
			c.u.path.req_counter = 5;
			memset(c.u.path.token, 0x5a, 8);
			break;
		default:
			c.u.hb.seq = 42;
			c.u.hb.flags = t == JV_CTRL_HEARTBEAT_ACK
					       ? JV_HB_REATTACH_NEEDED : 0;
		}
		out[0] = (uint8_t)t;
		len = jv_ctrl_encode(&c, out + 1, sizeof(out) - 1);
		if (len < 0)
			die("ctrl encode");
		snprintf(name, sizeof(name), "type_%02d", t);
		write_file("wire_ctrl", name, out, (size_t)len + 1);
	}
}

/* The harness's session, terminated by its id and by a prefix. */
static void ctl_seeds(void)
{
	static struct world w;
	struct jv_session_info si;
	uint32_t cur = 0;
	char hex[33], line[256];
	int n;

	fz_world_init(&w);
	fz_handshake(&w);
	if (!jv_endpoint_session_next(w.s.ep, &cur, 0, &si))
		die("ctl: no session");
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", si.session_id[i]);
	n = snprintf(line, sizeof(line),
		     "{\"cmd\":\"terminate\",\"args\":[\"%s\"]}\n"
		     "{\"cmd\":\"sessions\"}\n", hex);
	write_file("ctl", "terminate_id", (const uint8_t *)line, (size_t)n);
	n = snprintf(line, sizeof(line),
		     "{\"cmd\":\"terminate\",\"args\":[\"%.8s\"]}\n"
		     "{\"cmd\":\"status\"}\n", hex);
	write_file("ctl", "terminate_prefix", (const uint8_t *)line,
		   (size_t)n);
	world_fini(&w);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		die(outdir);
	server_seeds();
	client_seeds();
	wire_seeds();
	ctl_seeds();
	return 0;
}
