/* core/allowedips.c: the edges walked by hand, then the trie against a
 * naive list of prefixes on random prefixes and addresses, IPv4 and IPv6
 * (WireGuard's allowedips self-test does the same). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/allowedips.h"
#include "core/err.h"

#include "tests/unit/rng.h"
#include "tests/unit/unit.h"

static struct jv_prefix v4(uint32_t addr, uint8_t len)
{
	return (struct jv_prefix){ .addr = addr, .prefix = len,
				   .family = JV_IP4 };
}

static struct jv_prefix v6(const char *hex32, uint8_t len)
{
	struct jv_prefix p = { .prefix = len, .family = JV_IP6 };

	for (int i = 0; i < 16; i++) {
		unsigned b;

		assert_int_equal(sscanf(hex32 + 2 * i, "%2x", &b), 1);
		p.addr6[i] = (uint8_t)b;
	}
	return p;
}

static int32_t look4(const struct jv_aip *t, uint32_t a)
{
	uint8_t b[4] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16),
			 (uint8_t)(a >> 8), (uint8_t)a };

	return jv_aip_lookup(t, JV_IP4, b);
}

static int32_t look6(const struct jv_aip *t, const char *hex32)
{
	struct jv_prefix p = v6(hex32, 128);

	return jv_aip_lookup(t, JV_IP6, p.addr6);
}

#define ZERO6 "00000000000000000000000000000000"

JV_TEST(test_aip_default_routes)
{
	struct jv_aip *t;

	assert_int_equal(jv_aip_new(4, &t), 0);
	assert_int_equal(look4(t, 0), JV_AIP_NONE);
	assert_int_equal(look6(t, ZERO6), JV_AIP_NONE);
	assert_int_equal(jv_aip_insert(t, &(struct jv_prefix){ .prefix = 0 }, 3),
			 0);
	/* 0.0.0.0/0 holds every IPv4 address and no IPv6 one */
	assert_int_equal(look4(t, 0), 3);
	assert_int_equal(look4(t, 0xffffffff), 3);
	assert_int_equal(look4(t, 0x80000000), 3);
	assert_int_equal(look6(t, ZERO6), JV_AIP_NONE);
	assert_int_equal(jv_aip_insert(t, &(struct jv_prefix){
					.family = JV_IP6 }, 5), 0);
	assert_int_equal(look6(t, ZERO6), 5);
	assert_int_equal(look6(t, "ffffffffffffffffffffffffffffffff"), 5);
	assert_int_equal(look4(t, 0x0a000001), 3);
	/* an unknown family routes nowhere */
	assert_int_equal(jv_aip_lookup(t, 7, (const uint8_t *)ZERO6),
			 JV_AIP_NONE);
	assert_int_equal(jv_aip_count(t), 2);
	jv_aip_free(t);
}

JV_TEST(test_aip_host_routes)
{
	struct jv_aip *t;
	struct jv_prefix a = v4(0x0a4d0002, 32);
	struct jv_prefix b = v6("fd770000000000000000000000000002", 128);

	assert_int_equal(jv_aip_new(4, &t), 0);
	assert_int_equal(jv_aip_insert(t, &a, 0), 0);
	assert_int_equal(jv_aip_insert(t, &b, 1), 0);
	assert_int_equal(look4(t, 0x0a4d0002), 0);
	assert_int_equal(look4(t, 0x0a4d0003), JV_AIP_NONE);
	assert_int_equal(look4(t, 0x0a4d0000), JV_AIP_NONE);
	assert_int_equal(look4(t, 0x8a4d0002), JV_AIP_NONE);
	assert_int_equal(look6(t, "fd770000000000000000000000000002"), 1);
	assert_int_equal(look6(t, "fd770000000000000000000000000003"), JV_AIP_NONE);
	assert_int_equal(look6(t, "fd770000000000000000000000000000"), JV_AIP_NONE);
	assert_int_equal(look6(t, "7d770000000000000000000000000002"), JV_AIP_NONE);
	/* the IPv4 bytes at the start of an IPv6 address mean nothing */
	assert_int_equal(look6(t, "0a4d0002000000000000000000000000"), JV_AIP_NONE);
	jv_aip_free(t);
}

/* Nested prefixes of three peers: the longest wins, whatever order they
 * were added in; a wider peer does not own a narrower peer's addresses. */
JV_TEST(test_aip_nested)
{
	struct jv_prefix p[] = { v4(0x0a000000, 8), v4(0x0a010000, 16),
				 v4(0x0a010203, 32), v4(0x0a010200, 24) };
	int order[2][4] = { { 0, 1, 2, 3 }, { 2, 3, 1, 0 } };

	for (int o = 0; o < 2; o++) {
		struct jv_aip *t;

		assert_int_equal(jv_aip_new(4, &t), 0);
		for (int i = 0; i < 4; i++)
			assert_int_equal(jv_aip_insert(t, &p[order[o][i]],
						       (uint32_t)order[o][i] % 3),
					 0);
		assert_int_equal(look4(t, 0x0a090909), 0);
		assert_int_equal(look4(t, 0x0a01ffff), 1);
		assert_int_equal(look4(t, 0x0a010203), 2);
		assert_int_equal(look4(t, 0x0a010204), 0);   /* the /24: peer 0 */
		assert_int_equal(look4(t, 0x0b010203), JV_AIP_NONE);
		{
			uint8_t a[4] = { 10, 1, 9, 9 };

			assert_true(jv_aip_owns(t, 1, JV_IP4, a));
			assert_false(jv_aip_owns(t, 0, JV_IP4, a));
			a[2] = 2;
			assert_true(jv_aip_owns(t, 0, JV_IP4, a));
			a[3] = 3;
			assert_true(jv_aip_owns(t, 2, JV_IP4, a));
			assert_false(jv_aip_owns(t, 0, JV_IP4, a));
			assert_false(jv_aip_owns(t, 1, JV_IP4, a));
		}
		assert_true(jv_aip_nodes(t) <= 8);
		jv_aip_free(t);
	}
}

JV_TEST(test_aip_refused)
{
	struct jv_aip *t;
	struct jv_prefix p;

	assert_int_equal(jv_aip_new(3, &t), 0);
	p = v4(0x0a4d0000, 24);
	assert_int_equal(jv_aip_insert(t, &p, 0), 0);
	/* the same prefix: again for its peer is nothing, for another refused */
	assert_int_equal(jv_aip_insert(t, &p, 0), 0);
	assert_int_equal(jv_aip_insert(t, &p, 1), JV_ERR_EXISTS);
	assert_int_equal(jv_aip_count(t), 1);
	assert_int_equal(look4(t, 0x0a4d0001), 0);
	/* the same bits as IPv6 are another prefix */
	p = v6("0a4d0000000000000000000000000000", 24);
	assert_int_equal(jv_aip_insert(t, &p, 1), 0);
	/* malformed */
	p = v4(0x0a4d0001, 24);                       /* host bits */
	assert_int_equal(jv_aip_insert(t, &p, 1), JV_ERR_INVAL);
	p = v4(0, 33);
	assert_int_equal(jv_aip_insert(t, &p, 1), JV_ERR_INVAL);
	p = v6(ZERO6, 129);
	assert_int_equal(jv_aip_insert(t, &p, 1), JV_ERR_INVAL);
	p = v6("00000000000000000000000000000001", 127);
	assert_int_equal(jv_aip_insert(t, &p, 1), JV_ERR_INVAL);
	p = v4(0, 0);
	p.family = 2;
	assert_int_equal(jv_aip_insert(t, &p, 1), JV_ERR_INVAL);
	p = v4(0, 0);
	assert_int_equal(jv_aip_insert(t, &p, 0x80000000u), JV_ERR_INVAL);
	/* an inner node taken as a prefix later still counts toward max */
	p = v4(0x0b000000, 8);
	assert_int_equal(jv_aip_insert(t, &p, 2), 0);
	p = v4(0x0c000000, 8);
	assert_int_equal(jv_aip_insert(t, &p, 2), JV_ERR_FULL);
	p = v4(0x08000000, 5);                        /* where they part */
	assert_int_equal(jv_aip_insert(t, &p, 2), JV_ERR_FULL);
	assert_int_equal(jv_aip_count(t), 3);
	assert_int_equal(look4(t, 0x0b000001), 2);
	assert_int_equal(look4(t, 0x0c000001), JV_AIP_NONE);
	jv_aip_free(t);
}

JV_TEST(test_ip_packet_addr)
{
	uint8_t pkt[40] = { 0x45 };
	const uint8_t *a;
	uint8_t fam;

	assert_true(jv_ip_packet_addr(pkt, 20, false, &fam, &a));
	assert_int_equal(fam, JV_IP4);
	assert_ptr_equal(a, pkt + 12);
	assert_true(jv_ip_packet_addr(pkt, 20, true, &fam, &a));
	assert_ptr_equal(a, pkt + 16);
	assert_false(jv_ip_packet_addr(pkt, 19, false, &fam, &a));
	pkt[0] = 0x60;
	assert_false(jv_ip_packet_addr(pkt, 39, false, &fam, &a));
	assert_true(jv_ip_packet_addr(pkt, 40, false, &fam, &a));
	assert_int_equal(fam, JV_IP6);
	assert_ptr_equal(a, pkt + 8);
	assert_true(jv_ip_packet_addr(pkt, 40, true, &fam, &a));
	assert_ptr_equal(a, pkt + 24);
	pkt[0] = 0x50;
	assert_false(jv_ip_packet_addr(pkt, 40, false, &fam, &a));
	assert_false(jv_ip_packet_addr(pkt, 0, false, &fam, &a));
}

static bool scoped(const char *src, const char *dst)
{
	uint8_t pkt[40] = { 0x60 };
	struct jv_prefix a = v6(src, 128), b = v6(dst, 128);

	memcpy(pkt + 8, a.addr6, 16);
	memcpy(pkt + 24, b.addr6, 16);
	return jv_ip_packet_link_scoped(pkt, 40);
}

#define FD77_1 "fd770000000000000000000000000001"
#define FD77_2 "fd770000000000000000000000000002"

JV_TEST(test_link_scoped)
{
	uint8_t pkt[40] = { 0x45 };

	/* a router solicitation, an MLD report, neighbour talk */
	assert_true(scoped("fe8000000000000083fa1308607538d7",
			   "ff020000000000000000000000000002"));
	assert_true(scoped(ZERO6, "ff020000000000000000000000000016"));
	assert_true(scoped("febf0000000000000000000000000001", FD77_1));
	assert_true(scoped(FD77_2, "fe800000000000000000000000000001"));
	assert_true(scoped(FD77_2, "ff010000000000000000000000000001"));
	assert_true(scoped(FD77_2, "ff120000000000000000000000000001"));
	/* routable ones */
	assert_false(scoped(FD77_2, FD77_1));
	assert_false(scoped("fec00000000000000000000000000001", FD77_1));
	assert_false(scoped("fe7f0000000000000000000000000001", FD77_1));
	assert_false(scoped(FD77_2, "ff050000000000000000000000000001"));
	assert_false(scoped(FD77_2, "ff0e0000000000000000000000000001"));
	assert_false(scoped(FD77_2, "00000000000000000000000000000001"));
	/* not IPv6, or too short */
	assert_false(jv_ip_packet_link_scoped(pkt, 40));
	pkt[0] = 0x60;
	assert_false(jv_ip_packet_link_scoped(pkt, 39));
	assert_true(jv_ip_packet_link_scoped(pkt, 40));
}

/* ---- the differential test ---- */

struct model {
	struct jv_prefix p[4096];
	uint32_t peer[4096];
	uint32_t n;
};

static bool model_match(const struct jv_prefix *p, uint8_t fam,
			const uint8_t *a)
{
	uint8_t k[16];

	if (p->family != fam)
		return false;
	jv_prefix_bytes(p, k);
	for (unsigned i = 0; i < p->prefix; i++)
		if (((k[i / 8] ^ a[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static int32_t model_lookup(const struct model *m, uint8_t fam,
			    const uint8_t *a)
{
	int32_t best = JV_AIP_NONE;
	int len = -1;

	for (uint32_t i = 0; i < m->n; i++)
		if (model_match(&m->p[i], fam, a) && m->p[i].prefix > len) {
			len = m->p[i].prefix;
			best = (int32_t)m->peer[i];
		}
	return best;
}

static int model_insert(struct model *m, const struct jv_prefix *p,
			uint32_t peer, uint32_t max)
{
	for (uint32_t i = 0; i < m->n; i++) {
		uint8_t a[16], b[16];

		if (m->p[i].family != p->family || m->p[i].prefix != p->prefix)
			continue;
		jv_prefix_bytes(&m->p[i], a);
		jv_prefix_bytes(p, b);
		if (memcmp(a, b, 16) == 0)
			return m->peer[i] == peer ? JV_OK : JV_ERR_EXISTS;
	}
	if (m->n == max)
		return JV_ERR_FULL;
	m->p[m->n] = *p;
	m->peer[m->n++] = peer;
	return JV_OK;
}

static void random_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

/* Clears the bits of b past len (16 bytes). */
static void clear_past(uint8_t *b, unsigned len)
{
	for (unsigned i = len; i < 128; i++)
		b[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

/* A random prefix: half the time near one already in the model (the same
 * bits, another length, a bit flipped), so nesting, equal prefixes and
 * near misses are frequent; lengths favour the ends (/0, full). */
static struct jv_prefix random_prefix(const struct model *m, uint8_t fam)
{
	unsigned bits = jv_ip_bits(fam), len;
	struct jv_prefix p = { .family = fam };
	uint8_t b[16];

	random_bytes(b, 16);
	if (m->n && rnd() % 2) {
		const struct jv_prefix *o = &m->p[rnd() % m->n];

		if (o->family == fam) {
			jv_prefix_bytes(o, b);
			if (rnd() % 2) {
				unsigned i = (unsigned)(rnd() % bits);

				b[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
			}
		}
	}
	switch (rnd() % 8) {
	case 0:
		len = (unsigned)(rnd() % 3);
		break;
	case 1:
		len = bits - (unsigned)(rnd() % 3);
		break;
	default:
		len = (unsigned)(rnd() % (bits + 1));
	}
	clear_past(b, len);
	p.prefix = (uint8_t)len;
	if (fam == JV_IP4)
		p.addr = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
			 (uint32_t)b[2] << 8 | b[3];
	else
		memcpy(p.addr6, b, 16);
	return p;
}

/* A random address: half the time inside a prefix of the model. */
static void random_addr(const struct model *m, uint8_t fam, uint8_t a[16])
{
	random_bytes(a, 16);
	if (m->n && rnd() % 2) {
		const struct jv_prefix *o = &m->p[rnd() % m->n];
		uint8_t k[16];

		if (o->family != fam)
			return;
		jv_prefix_bytes(o, k);
		for (unsigned i = 0; i < o->prefix; i++) {
			uint8_t bit = (uint8_t)(0x80 >> (i % 8));

			a[i / 8] = (uint8_t)((a[i / 8] & ~bit) | (k[i / 8] & bit));
		}
	}
}

static struct model model;

/* One table of up to max prefixes of npeers peers, every insert's result
 * and queries lookups per family compared with the model. */
static void differential(uint32_t max, uint32_t tries, uint32_t npeers,
			 uint32_t queries, uint64_t *nins, uint64_t *nq)
{
	struct jv_aip *t;

	memset(&model, 0, sizeof(model));
	assert_true(max <= 4096);
	assert_int_equal(jv_aip_new(max, &t), 0);
	for (uint32_t i = 0; i < tries; i++) {
		uint8_t fam = rnd() % 2 ? JV_IP6 : JV_IP4;
		struct jv_prefix p = random_prefix(&model, fam);
		uint32_t peer = (uint32_t)(rnd() % npeers);
		int want = model_insert(&model, &p, peer, max);

		assert_int_equal(jv_aip_insert(t, &p, peer), want);
		(*nins)++;
	}
	assert_int_equal(jv_aip_count(t), model.n);
	assert_true(jv_aip_nodes(t) <= 2 * model.n);
	for (uint32_t q = 0; q < queries; q++) {
		uint8_t fam = q % 2 ? JV_IP6 : JV_IP4, a[16];
		uint32_t peer = (uint32_t)(rnd() % npeers);
		int32_t want;

		random_addr(&model, fam, a);
		want = model_lookup(&model, fam, a);
		if (jv_aip_lookup(t, fam, a) != want) {
			print_error("seed state %llu: query %u (family %u) "
				    "got %d, want %d\n",
				    (unsigned long long)rng_state, q, fam,
				    jv_aip_lookup(t, fam, a), want);
			fail();
		}
		assert_int_equal(jv_aip_owns(t, peer, fam, a),
				 want == (int32_t)peer);
		(*nq)++;
	}
	jv_aip_free(t);
}

JV_TEST(test_aip_differential)
{
	uint64_t nins = 0, nq = 0;

	rng_state = 9;
	/* many small tables: dense nesting and equal prefixes */
	for (int r = 0; r < 200; r++)
		differential(1 + (uint32_t)(rnd() % 64), 96, 1 + (uint32_t)(rnd() % 8),
			     500, &nins, &nq);
	/* a few large ones, up to the configuration's bound (256 x 16) */
	for (int r = 0; r < 6; r++)
		differential(r < 3 ? 1000 : 4096, r < 3 ? 1200 : 4200, 256,
			     r < 3 ? 20000 : 10000, &nins, &nq);
	print_message("allowedips differential: %llu inserts, %llu lookups "
		      "checked against the naive list\n",
		      (unsigned long long)nins, (unsigned long long)nq);
}
