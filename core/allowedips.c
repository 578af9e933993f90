/* Cryptokey routing: a path-compressed binary trie per family (see
 * allowedips.h). A node holds a prefix (key, bits); its children hold
 * longer prefixes that agree with it on those bits and split on the next
 * one. A node of peer JV_AIP_NONE only branches: it was made where two
 * prefixes part. Every insert adds at most two nodes, so max prefixes
 * never need more than 2 * max. */
#include "core/allowedips.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

struct node {
	uint8_t key[16];             /* network order, zero past bits */
	uint8_t bits;
	int32_t peer;                /* JV_AIP_NONE: branching only */
	uint32_t child[2];           /* node index + 1; 0: none */
};

struct jv_aip {
	uint32_t root[2];            /* per family: node index + 1 */
	uint32_t count, max;         /* prefixes held, and at most */
	uint32_t nnodes, cap;
	struct node nodes[];
};

unsigned jv_ip_bits(uint8_t family)
{
	return family == JV_IP4 ? 32 : family == JV_IP6 ? 128 : 0;
}

void jv_prefix_bytes(const struct jv_prefix *p, uint8_t out[16])
{
	memset(out, 0, 16);
	if (p->family == JV_IP6) {
		memcpy(out, p->addr6, 16);
		return;
	}
	out[0] = (uint8_t)(p->addr >> 24);
	out[1] = (uint8_t)(p->addr >> 16);
	out[2] = (uint8_t)(p->addr >> 8);
	out[3] = (uint8_t)p->addr;
}

static unsigned bit_at(const uint8_t *a, unsigned i)
{
	return (a[i >> 3] >> (7 - (i & 7))) & 1;
}

/* Whether a and b agree on their first n bits. */
static bool same_bits(const uint8_t *a, const uint8_t *b, unsigned n)
{
	unsigned whole = n >> 3, rest = n & 7;

	if (memcmp(a, b, whole) != 0)
		return false;
	return rest == 0 ||
	       ((a[whole] ^ b[whole]) & (uint8_t)(0xff00u >> rest)) == 0;
}

/* How many leading bits a and b share, at most n. */
static unsigned common_bits(const uint8_t *a, const uint8_t *b, unsigned n)
{
	unsigned i = 0;

	while (i < n && a[i >> 3] == b[i >> 3])
		i += 8;
	if (i < n)
		i += (unsigned)__builtin_clz((unsigned)(a[i >> 3] ^ b[i >> 3])) -
		     (unsigned)(8 * sizeof(unsigned) - 8);
	return i < n ? i : n;
}

/* Zeroes the bits of a past n (a has 16 bytes). */
static void mask_bits(uint8_t *a, unsigned n)
{
	unsigned whole = n >> 3, rest = n & 7;

	if (whole >= 16)
		return;
	a[whole] &= (uint8_t)(0xff00u >> rest);
	memset(a + whole + 1, 0, 16 - whole - 1);
}

bool jv_prefix_match(const struct jv_prefix *p, uint8_t family,
		     const uint8_t *addr)
{
	uint8_t key[16];

	if (p->family != family || p->prefix > jv_ip_bits(family))
		return false;
	jv_prefix_bytes(p, key);
	return same_bits(key, addr, p->prefix);
}

bool jv_prefix_valid(const struct jv_prefix *p)
{
	uint8_t key[16], masked[16];
	unsigned bits = jv_ip_bits(p->family);

	if (bits == 0 || p->prefix > bits)
		return false;
	jv_prefix_bytes(p, key);
	memcpy(masked, key, 16);
	mask_bits(masked, p->prefix);
	return memcmp(key, masked, 16) == 0;
}

bool jv_ip_packet_addr(const uint8_t *pkt, size_t len, bool dst,
		       uint8_t *family, const uint8_t **addr)
{
	if (len >= 20 && (pkt[0] >> 4) == 4) {
		*family = JV_IP4;
		*addr = pkt + (dst ? 16 : 12);
		return true;
	}
	if (len >= 40 && (pkt[0] >> 4) == 6) {
		*family = JV_IP6;
		*addr = pkt + (dst ? 24 : 8);
		return true;
	}
	return false;
}

static bool link_local6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

bool jv_ip_packet_link_scoped(const uint8_t *pkt, size_t len)
{
	static const uint8_t unspecified[16];
	const uint8_t *src = pkt + 8, *dst = pkt + 24;

	if (len < 40 || (pkt[0] >> 4) != 6)
		return false;
	return memcmp(src, unspecified, 16) == 0 || link_local6(src) ||
	       link_local6(dst) ||
	       (dst[0] == 0xff && ((dst[1] & 0x0f) == 1 || (dst[1] & 0x0f) == 2));
}

int jv_aip_new(uint32_t max, struct jv_aip **out)
{
	struct jv_aip *t;
	uint64_t cap = 2 * (uint64_t)max;

	*out = NULL;
	if (cap > UINT32_MAX / 2)
		return JV_ERR_NOMEM;
	t = calloc(1, sizeof(*t) + (size_t)cap * sizeof(struct node));
	if (!t)
		return JV_ERR_NOMEM;
	t->max = max;
	t->cap = (uint32_t)cap;
	*out = t;
	return JV_OK;
}

void jv_aip_free(struct jv_aip *t)
{
	free(t);
}

static uint32_t new_node(struct jv_aip *t, const uint8_t key[16],
			 unsigned bits, int32_t peer)
{
	struct node *n = &t->nodes[t->nnodes++];

	memcpy(n->key, key, 16);
	mask_bits(n->key, bits);
	n->bits = (uint8_t)bits;
	n->peer = peer;
	n->child[0] = n->child[1] = 0;
	return t->nnodes;            /* index + 1 */
}

int jv_aip_insert(struct jv_aip *t, const struct jv_prefix *p, uint32_t peer)
{
	uint8_t key[16];
	unsigned bits = p->prefix, c = 0;
	uint32_t *ref, leaf;
	struct node *n;

	if (!jv_prefix_valid(p) || peer > INT32_MAX)
		return JV_ERR_INVAL;
	jv_prefix_bytes(p, key);
	ref = &t->root[p->family];
	while (*ref) {
		n = &t->nodes[*ref - 1];
		c = common_bits(n->key, key, bits < n->bits ? bits : n->bits);
		if (c == n->bits && c == bits) {             /* this prefix */
			if (n->peer == (int32_t)peer)
				return JV_OK;
			if (n->peer != JV_AIP_NONE)
				return JV_ERR_EXISTS;
			if (t->count == t->max)
				return JV_ERR_FULL;
			n->peer = (int32_t)peer;
			t->count++;
			return JV_OK;
		}
		if (c == n->bits) {                 /* n holds it: go down */
			ref = &n->child[bit_at(key, n->bits)];
			continue;
		}
		break;                       /* it parts from n at bit c */
	}
	if (t->count == t->max || t->nnodes + 2 > t->cap)
		return JV_ERR_FULL;
	leaf = new_node(t, key, bits, (int32_t)peer);
	t->count++;
	if (!*ref) {
		*ref = leaf;
		return JV_OK;
	}
	n = &t->nodes[*ref - 1];
	if (c == bits) {
		/* the new prefix holds n: it takes n's place, n below it */
		t->nodes[leaf - 1].child[bit_at(n->key, bits)] = *ref;
		*ref = leaf;
	} else {
		/* they part at bit c: a branching node of c bits above both */
		uint32_t mid = new_node(t, key, c, JV_AIP_NONE);
		struct node *m = &t->nodes[mid - 1];

		m->child[bit_at(n->key, c)] = *ref;
		m->child[bit_at(key, c)] = leaf;
		*ref = mid;
	}
	return JV_OK;
}

int32_t jv_aip_lookup(const struct jv_aip *t, uint8_t family,
		      const uint8_t *addr)
{
	unsigned bits = jv_ip_bits(family);
	int32_t best = JV_AIP_NONE;
	uint32_t idx;

	if (bits == 0)
		return JV_AIP_NONE;
	/* bits grow strictly down the trie: at most bits + 1 steps */
	for (idx = t->root[family]; idx;) {
		const struct node *n = &t->nodes[idx - 1];

		if (!same_bits(n->key, addr, n->bits))
			break;
		if (n->peer != JV_AIP_NONE)
			best = n->peer;
		if (n->bits >= bits)
			break;
		idx = n->child[bit_at(addr, n->bits)];
	}
	return best;
}

bool jv_aip_owns(const struct jv_aip *t, uint32_t peer, uint8_t family,
		 const uint8_t *addr)
{
	int32_t p = jv_aip_lookup(t, family, addr);

	return p != JV_AIP_NONE && (uint32_t)p == peer;
}

uint32_t jv_aip_count(const struct jv_aip *t)
{
	return t->count;
}

uint32_t jv_aip_nodes(const struct jv_aip *t)
{
	return t->nnodes;
}
