/* core/gso.c: a super packet as a TUN with offloads hands it over (one
 * header, up to 64 KiB of payload, the L4 checksum left partial) is split
 * into exactly the packets a sender without offload would have built from
 * the same data: each expected packet is built here independently, with
 * a slow byte-by-byte checksum, and compared byte for byte. IPv4 and IPv6,
 * TCP and UDP, sizes around the segment size and odd ones. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/gso.h"
#include "tests/unit/unit.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80
#define MAXPKT (JV_GSO_MAX + 100)

/* The slow checksum: one 16-bit word at a time, folded at each step. */
static uint16_t slow_sum(uint32_t sum, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sum += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

struct spec {
	int v6, tcp;
	uint32_t seq;
	uint8_t flags;
	uint16_t id;
};

/* A whole packet with correct checksums: IP header, then a TCP header
 * with 12 bytes of options (doff 8) or a UDP header, then payload. */
static size_t build(const struct spec *s, const uint8_t *pay, size_t plen,
		    uint8_t *o)
{
	size_t ip = s->v6 ? 40 : 20, l4h = s->tcp ? 32 : 8;
	size_t tot = ip + l4h + plen, l4len = l4h + plen;
	uint8_t ph[40];
	uint16_t c;

	memset(o, 0, ip + l4h);
	if (s->v6) {
		o[0] = 0x60;
		o[4] = (uint8_t)((tot - 40) >> 8);
		o[5] = (uint8_t)(tot - 40);
		o[6] = s->tcp ? 6 : 17;
		o[7] = 64;
		for (int i = 0; i < 16; i++) {
			o[8 + i] = (uint8_t)(0x20 + i);
			o[24 + i] = (uint8_t)(0xa0 + i);
		}
	} else {
		o[0] = 0x45;
		o[2] = (uint8_t)(tot >> 8);
		o[3] = (uint8_t)tot;
		o[4] = (uint8_t)(s->id >> 8);
		o[5] = (uint8_t)s->id;
		o[6] = 0x40;                            /* DF */
		o[8] = 64;
		o[9] = s->tcp ? 6 : 17;
		memcpy(o + 12, "\x0a\x4d\x00\x02\x0a\x4d\x00\x01", 8);
		c = (uint16_t)~slow_sum(0, o, 20);
		o[10] = (uint8_t)(c >> 8);
		o[11] = (uint8_t)c;
	}
	if (s->tcp) {
		o[ip] = 0xc3, o[ip + 1] = 0x50;         /* 50000 */
		o[ip + 2] = 0x14, o[ip + 3] = 0x51;     /* 5201 */
		o[ip + 4] = (uint8_t)(s->seq >> 24);
		o[ip + 5] = (uint8_t)(s->seq >> 16);
		o[ip + 6] = (uint8_t)(s->seq >> 8);
		o[ip + 7] = (uint8_t)s->seq;
		memcpy(o + ip + 8, "\x11\x22\x33\x44", 4);   /* ack */
		o[ip + 12] = 8 << 4;
		o[ip + 13] = s->flags;
		o[ip + 14] = 0x01, o[ip + 15] = 0xf5;   /* window */
		/* options: NOP NOP timestamps */
		memcpy(o + ip + 20, "\x01\x01\x08\x0a\x00\x00\x00\x07\x00\x00\x00\x09", 12);
	} else {
		o[ip] = 0xd9, o[ip + 1] = 0x03;
		o[ip + 2] = 0x14, o[ip + 3] = 0x51;
		o[ip + 4] = (uint8_t)(l4len >> 8);
		o[ip + 5] = (uint8_t)l4len;
	}
	memcpy(o + ip + l4h, pay, plen);
	/* pseudo-header as bytes: addresses, zero, protocol, length */
	memset(ph, 0, sizeof(ph));
	if (s->v6)
		memcpy(ph, o + 8, 32);
	else
		memcpy(ph, o + 12, 8);
	{
		size_t pl = s->v6 ? 32 : 8;
		uint32_t sum = slow_sum(0, ph, pl);

		sum = slow_sum(sum, (const uint8_t[]){ 0, s->tcp ? 6 : 17,
				(uint8_t)(l4len >> 8), (uint8_t)l4len }, 4);
		c = (uint16_t)~slow_sum(sum, o + ip, l4len);
	}
	if (!s->tcp && c == 0)
		c = 0xffff;
	o[ip + (s->tcp ? 16 : 6)] = (uint8_t)(c >> 8);
	o[ip + (s->tcp ? 17 : 7)] = (uint8_t)c;
	return tot;
}

struct got {
	uint8_t *buf;           /* the segments, one after another */
	size_t len[2048];
	size_t used;
	int n;
};

static void collect(void *ctx, const uint8_t *pkt, size_t len)
{
	struct got *g = ctx;

	assert_true(g->n < 2048);
	memcpy(g->buf + g->used, pkt, len);
	g->len[g->n++] = len;
	g->used += len;
}

/* The kernel's form: the L4 checksum field holds the pseudo-header's sum
 * (not complemented), the rest is for whoever finishes it. */
static void make_partial(const struct spec *s, uint8_t *pkt, size_t len)
{
	size_t ip = s->v6 ? 40 : 20, at = ip + (s->tcp ? 16 : 6);
	size_t l4len = len - ip;
	uint32_t sum = slow_sum(0, pkt + (s->v6 ? 8 : 12), s->v6 ? 32 : 8);

	sum = slow_sum(sum, (const uint8_t[]){ 0, s->tcp ? 6 : 17,
			(uint8_t)(l4len >> 8), (uint8_t)l4len }, 4);
	pkt[at] = (uint8_t)(sum >> 8);
	pkt[at + 1] = (uint8_t)sum;
}

/* plen bytes of payload sent as one super packet of segment size mss:
 * the segments equal what build() makes of each mss-sized piece. */
static void check_split(int v6, int tcp, size_t plen, uint16_t mss)
{
	uint8_t *pay = malloc(plen + 1), *sup = malloc(MAXPKT),
		*want = malloc(MAXPKT), *scratch = malloc(2048);
	struct spec s = { v6, tcp, 0xfffff000u, TCP_ACK | TCP_PSH | TCP_FIN |
		TCP_CWR, 0xfff0 };
	struct got *g = calloc(1, sizeof(*g));
	size_t ip = v6 ? 40 : 20, l4h = tcp ? 32 : 8, len, off = 0;
	struct jv_vnet_hdr h = {
		.flags = JV_VNET_F_NEEDS_CSUM,
		.gso_type = tcp ? (v6 ? JV_VNET_GSO_TCPV6 : JV_VNET_GSO_TCPV4)
				: JV_VNET_GSO_UDP_L4,
		.hdr_len = (uint16_t)(ip + l4h), .gso_size = mss,
		.csum_start = (uint16_t)ip,
		.csum_offset = tcp ? 16 : 6,
	};
	int n, k = 0;

	assert_non_null(g);
	g->buf = malloc(2 * MAXPKT);
	for (size_t i = 0; i < plen; i++)
		pay[i] = (uint8_t)(i * 7 + i / 251);
	len = build(&s, pay, plen, sup);
	make_partial(&s, sup, len);
	n = jv_gso_split(&h, sup, len, scratch, 2048, collect, g);
	assert_int_equal(n, g->n);
	assert_int_equal(n, plen ? (int)((plen + mss - 1) / mss) : 1);
	for (size_t at = 0; k < n; k++) {
		size_t chunk = plen - off < mss ? plen - off : mss;
		struct spec e = s;
		size_t wl;

		e.seq = s.seq + (uint32_t)off;
		e.id = (uint16_t)(s.id + k);
		/* FIN, PSH on the last only; CWR on the first only */
		if (k != n - 1)
			e.flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (k)
			e.flags &= (uint8_t)~TCP_CWR;
		wl = build(&e, pay + off, chunk, want);
		assert_int_equal(g->len[k], wl);
		assert_memory_equal(g->buf + at, want, wl);
		at += wl;
		off += chunk;
	}
	assert_int_equal(off, plen);
	free(g->buf);
	free(g);
	free(pay);
	free(sup);
	free(want);
	free(scratch);
}

JV_TEST(test_tcp4_sizes)
{
	static const size_t sizes[] = { 1, 1347, 1348, 1349, 2696, 4045,
					13480, 65535 - 20 - 32 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_split(0, 1, sizes[i], 1348);
}

JV_TEST(test_tcp6_sizes)
{
	static const size_t sizes[] = { 1, 1327, 1328, 1329, 9999,
					65535 - 40 - 32 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_split(1, 1, sizes[i], 1328);
}

JV_TEST(test_udp4_sizes)
{
	static const size_t sizes[] = { 1, 999, 1000, 1001, 7777,
					65535 - 20 - 8 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_split(0, 0, sizes[i], 1000);
}

JV_TEST(test_udp6_sizes)
{
	static const size_t sizes[] = { 1, 1351, 1352, 1353, 50001 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_split(1, 0, sizes[i], 1352);
}

/* An odd segment size: the pieces do not start on even bytes of the
 * payload. */
JV_TEST(test_odd_mss)
{
	check_split(0, 1, 3001, 777);
	check_split(1, 0, 3001, 777);
}

/* No GSO, a partial checksum: completed in place, the packet otherwise
 * untouched; without NEEDS_CSUM it passes as it is. */
JV_TEST(test_none_completes_checksum)
{
	uint8_t pay[301], pkt[400], want[400], scratch[16];
	struct spec s = { 0, 1, 1, TCP_ACK, 1 };
	struct jv_vnet_hdr h = { .flags = JV_VNET_F_NEEDS_CSUM,
				 .csum_start = 20, .csum_offset = 16 };
	struct got *g = calloc(1, sizeof(*g));
	size_t len;

	g->buf = malloc(1024);
	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i ^ 0x5a);
	for (int v6 = 0; v6 < 2; v6++) {
		for (int tcp = 0; tcp < 2; tcp++) {
			s.v6 = v6;
			s.tcp = tcp;
			h.csum_start = v6 ? 40 : 20;
			h.csum_offset = tcp ? 16 : 6;
			len = build(&s, pay, sizeof(pay), want);
			memcpy(pkt, want, len);
			make_partial(&s, pkt, len);
			g->n = 0;
			g->used = 0;
			assert_int_equal(jv_gso_split(&h, pkt, len, scratch,
						      sizeof(scratch), collect,
						      g), 1);
			assert_int_equal(g->len[0], len);
			assert_memory_equal(g->buf, want, len);
		}
	}
	h.flags = 0;
	memcpy(pkt, want, len);
	pkt[len - 1] ^= 1;              /* not ours to check */
	g->n = 0;
	g->used = 0;
	assert_int_equal(jv_gso_split(&h, pkt, len, scratch, sizeof(scratch),
				      collect, g), 1);
	assert_memory_equal(g->buf, pkt, len);
	free(g->buf);
	free(g);
}

/* What does not fit is refused whole: nothing passed on. */
JV_TEST(test_refused)
{
	uint8_t pay[3000], pkt[3200], scratch[2048];
	struct spec s = { 0, 1, 1, TCP_ACK, 1 };
	struct jv_vnet_hdr h = { .flags = JV_VNET_F_NEEDS_CSUM,
				 .gso_type = JV_VNET_GSO_TCPV4, .hdr_len = 52,
				 .gso_size = 1000, .csum_start = 20,
				 .csum_offset = 16 };
	struct jv_vnet_hdr b;
	struct got *g = calloc(1, sizeof(*g));
	size_t len;

	g->buf = malloc(8192);
	memset(pay, 1, sizeof(pay));
	len = build(&s, pay, sizeof(pay), pkt);
	/* TCPv6 on an IPv4 packet */
	b = h;
	b.gso_type = JV_VNET_GSO_TCPV6;
	assert_int_equal(jv_gso_split(&b, pkt, len, scratch, sizeof(scratch),
				      collect, g), JV_ERR_INVAL);
	/* the L4 header inside the IP header, or past the end */
	b = h;
	b.csum_start = 10;
	assert_int_equal(jv_gso_split(&b, pkt, len, scratch, sizeof(scratch),
				      collect, g), JV_ERR_INVAL);
	b.csum_start = (uint16_t)(len - 4);
	assert_int_equal(jv_gso_split(&b, pkt, len, scratch, sizeof(scratch),
				      collect, g), JV_ERR_INVAL);
	/* a segment larger than the room for it; a segment size of 0 */
	b = h;
	b.gso_size = 2040;
	assert_int_equal(jv_gso_split(&b, pkt, len, scratch, sizeof(scratch),
				      collect, g), JV_ERR_INVAL);
	b.gso_size = 0;
	assert_int_equal(jv_gso_split(&b, pkt, len, scratch, sizeof(scratch),
				      collect, g), JV_ERR_INVAL);
	/* UDP GSO on a TCP packet; a type this does not know (UFO) */
	b = h;
	b.gso_type = JV_VNET_GSO_UDP_L4;
	assert_int_equal(jv_gso_split(&b, pkt, len, scratch, sizeof(scratch),
				      collect, g), JV_ERR_INVAL);
	b.gso_type = 3;
	assert_int_equal(jv_gso_split(&b, pkt, len, scratch, sizeof(scratch),
				      collect, g), JV_ERR_INVAL);
	/* a partial checksum past the end */
	b = h;
	b.gso_type = JV_VNET_GSO_NONE;
	b.csum_offset = (uint16_t)len;
	assert_int_equal(jv_gso_split(&b, pkt, len, scratch, sizeof(scratch),
				      collect, g), JV_ERR_INVAL);
	assert_int_equal(g->n, 0);
	/* the one that fits */
	assert_int_equal(jv_gso_split(&h, pkt, len, scratch, sizeof(scratch),
				      collect, g), 3);
	free(g->buf);
	free(g);
}

/* The header in host order, as the TUN writes it. */
JV_TEST(test_vnet_hdr_read)
{
	uint8_t b[JV_VNET_HDR_LEN];
	struct jv_vnet_hdr h;
	uint16_t v[4] = { 66, 1348, 20, 16 };

	b[0] = 1;
	b[1] = 4;
	memcpy(b + 2, v, sizeof(v));
	jv_vnet_hdr_read(b, &h);
	assert_int_equal(h.flags, 1);
	assert_int_equal(h.gso_type, JV_VNET_GSO_TCPV6);
	assert_int_equal(h.hdr_len, 66);
	assert_int_equal(h.gso_size, 1348);
	assert_int_equal(h.csum_start, 20);
	assert_int_equal(h.csum_offset, 16);
}
