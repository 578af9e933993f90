/* The server's session table.
 *
 * Memory per slot (capacity rounded up to a power of two): 48 bytes of
 * slot, 8 of id hash (two uint32 buckets: load factor <= 0.5) and 4 of free
 * list: 60 bytes. Everything is allocated in jv_table_new.
 *
 * Receiver indices carry the slot number in the low bits and random high
 * bits, so a stale or guessed index rarely names a live session. The id
 * hash is SipHash with a per-table random key: a peer choosing session ids
 * cannot build long probe chains. Timers are a hashed wheel of 1 ms ticks
 * with a bitmap of non-empty buckets. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/table.h"

#define WHEEL 4096u
#define WHEEL_MASK (WHEEL - 1)
#define NONE UINT32_MAX

struct slot {
	uint8_t id[16];
	void *user;
	uint64_t deadline;         /* UINT64_MAX: no timer */
	uint32_t index;            /* 0: free */
	uint32_t prev, next;       /* wheel bucket list */
	uint32_t home;             /* wheel bucket, while a timer is set */
};

struct jv_table {
	uint32_t capacity, count;
	uint32_t slot_bits, nslots;
	struct slot *slots;
	uint32_t *hash;            /* slot + 1, 0 = empty */
	uint32_t hash_mask;
	uint32_t *free_stack, nfree;
	uint8_t sipkey[crypto_shorthash_KEYBYTES];
	uint32_t (*rand_u32)(void *);
	void *rand_ctx;
	/* wheel */
	uint64_t tick;             /* every deadline < tick has been expired,
				    * except those set later, "in the past" */
	uint64_t past_min;         /* earliest of those, or UINT64_MAX */
	uint32_t ntimers;
	uint32_t bucket[WHEEL];
	uint64_t bitmap[WHEEL / 64];
};

int jv_table_new(struct jv_table **out, uint32_t capacity,
		 uint32_t (*rand_u32)(void *ctx), void *rand_ctx)
{
	struct jv_table *t;
	uint32_t n = 1, bits = 0;

	*out = NULL;
	if (capacity < 1 || capacity > (1u << 20) || !rand_u32)
		return JV_ERR_INVAL;
	while (n < capacity) {
		n <<= 1;
		bits++;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return JV_ERR_NOMEM;
	t->capacity = capacity;
	t->nslots = n;
	t->slot_bits = bits;
	t->slots = calloc(n, sizeof(*t->slots));
	t->hash = calloc(2 * (size_t)n, sizeof(*t->hash));
	t->free_stack = calloc(n, sizeof(*t->free_stack));
	if (!t->slots || !t->hash || !t->free_stack) {
		jv_table_free(t);
		return JV_ERR_NOMEM;
	}
	t->hash_mask = 2 * n - 1;
	/* pop order = ascending slot numbers: deterministic and compact */
	for (uint32_t i = 0; i < capacity; i++)
		t->free_stack[i] = capacity - 1 - i;
	t->nfree = capacity;
	for (uint32_t i = 0; i < n; i++) {
		t->slots[i].deadline = UINT64_MAX;
		t->slots[i].prev = t->slots[i].next = NONE;
	}
	for (uint32_t i = 0; i < WHEEL; i++)
		t->bucket[i] = NONE;
	t->past_min = UINT64_MAX;
	t->rand_u32 = rand_u32;
	t->rand_ctx = rand_ctx;
	for (size_t i = 0; i < sizeof(t->sipkey); i += 4) {
		uint32_t r = rand_u32(rand_ctx);

		memcpy(t->sipkey + i, &r, 4);
	}
	*out = t;
	return 0;
}

void jv_table_free(struct jv_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->hash);
	free(t->free_stack);
	sodium_memzero(t->sipkey, sizeof(t->sipkey));
	free(t);
}

/* ---- id hash: linear probing, backward-shift deletion ---- */

static uint32_t id_hash(const struct jv_table *t, const uint8_t id[16])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, id, 16, t->sipkey);
	memcpy(&v, h, sizeof(v));
	return v & t->hash_mask;
}

/* Bucket holding id, or the empty bucket where it would go. */
static uint32_t id_find(const struct jv_table *t, const uint8_t id[16])
{
	uint32_t b = id_hash(t, id);

	while (t->hash[b] &&
	       memcmp(t->slots[t->hash[b] - 1].id, id, 16) != 0)
		b = (b + 1) & t->hash_mask;
	return b;
}

static void id_delete(struct jv_table *t, uint32_t b)
{
	uint32_t j = b;

	t->hash[b] = 0;
	for (;;) {
		uint32_t home;

		j = (j + 1) & t->hash_mask;
		if (!t->hash[j])
			return;
		home = id_hash(t, t->slots[t->hash[j] - 1].id);
		/* move j back into the hole unless its home lies in (b, j] */
		if (((j - home) & t->hash_mask) >= ((j - b) & t->hash_mask)) {
			t->hash[b] = t->hash[j];
			t->hash[j] = 0;
			b = j;
		}
	}
}

/* ---- wheel ---- */

static void bit_set(struct jv_table *t, uint32_t b)
{
	t->bitmap[b / 64] |= 1ull << (b % 64);
}

static void bit_clear(struct jv_table *t, uint32_t b)
{
	t->bitmap[b / 64] &= ~(1ull << (b % 64));
}

static void timer_unlink(struct jv_table *t, uint32_t s)
{
	struct slot *e = &t->slots[s];

	if (e->deadline == UINT64_MAX)
		return;
	if (e->prev != NONE)
		t->slots[e->prev].next = e->next;
	else
		t->bucket[e->home] = e->next;
	if (e->next != NONE)
		t->slots[e->next].prev = e->prev;
	if (t->bucket[e->home] == NONE)
		bit_clear(t, e->home);
	e->prev = e->next = NONE;
	e->deadline = UINT64_MAX;
	t->ntimers--;
}

static void timer_link(struct jv_table *t, uint32_t s, uint64_t at)
{
	struct slot *e = &t->slots[s];
	uint32_t b = (uint32_t)(at & WHEEL_MASK);

	/* a deadline already past goes where the next expire looks first */
	if (at < t->tick) {
		b = (uint32_t)(t->tick & WHEEL_MASK);
		if (at < t->past_min)
			t->past_min = at;
	}
	e->deadline = at;
	e->home = b;
	e->prev = NONE;
	e->next = t->bucket[b];
	if (e->next != NONE)
		t->slots[e->next].prev = s;
	t->bucket[b] = s;
	bit_set(t, b);
	t->ntimers++;
}

/* Distance from bucket b to the next non-empty bucket (0 if b itself),
 * or WHEEL if the wheel is empty. */
static uint32_t next_busy(const struct jv_table *t, uint32_t b)
{
	for (uint32_t d = 0; d <= WHEEL; ) {
		uint32_t cur = (b + d) & WHEEL_MASK;
		uint64_t word = t->bitmap[cur / 64] >> (cur % 64);

		if (word)
			return d + (uint32_t)__builtin_ctzll(word);
		d += 64 - cur % 64;
	}
	return WHEEL;
}

void jv_table_set_deadline(struct jv_table *t, uint32_t index, uint64_t at_ms)
{
	uint32_t s = index & (t->nslots - 1);

	if (t->slots[s].index != index || index == 0)
		return;
	timer_unlink(t, s);
	if (at_ms != UINT64_MAX)
		timer_link(t, s, at_ms);
}

uint64_t jv_table_next_deadline(const struct jv_table *t)
{
	uint32_t d;

	if (!t->ntimers)
		return UINT64_MAX;
	d = next_busy(t, (uint32_t)(t->tick & WHEEL_MASK));
	if (d >= WHEEL)
		return t->past_min;
	return t->tick + d < t->past_min ? t->tick + d : t->past_min;
}

/* Entries set in the past wait in the current tick's bucket. */
static void *expire_past(struct jv_table *t, uint64_t now, uint32_t *index)
{
	uint32_t b = (uint32_t)(t->tick & WHEEL_MASK);
	uint64_t min = UINT64_MAX;

	for (uint32_t s = t->bucket[b]; s != NONE; s = t->slots[s].next) {
		uint64_t at = t->slots[s].deadline;

		if (at <= now && at < t->tick) {
			timer_unlink(t, s);
			if (index)
				*index = t->slots[s].index;
			return t->slots[s].user;
		}
		if (at < t->tick && at < min)
			min = at;
	}
	t->past_min = min;
	return NULL;
}

void *jv_table_expire(struct jv_table *t, uint64_t now, uint32_t *index)
{
	void *u;

	if (t->past_min <= now && (u = expire_past(t, now, index)))
		return u;
	if (now < t->tick)
		return NULL;
	/* a jump longer than the wheel: each bucket needs one look only */
	if (now - t->tick >= WHEEL)
		t->tick = now - WHEEL + 1;
	while (t->ntimers) {
		uint32_t b = (uint32_t)(t->tick & WHEEL_MASK);
		uint32_t d = next_busy(t, b);

		if (d >= WHEEL || d > now - t->tick)
			break;
		t->tick += d;
		b = (uint32_t)(t->tick & WHEEL_MASK);
		for (uint32_t s = t->bucket[b]; s != NONE; s = t->slots[s].next) {
			if (t->slots[s].deadline <= now) {
				timer_unlink(t, s);
				if (index)
					*index = t->slots[s].index;
				return t->slots[s].user;
			}
		}
		if (t->tick == now)
			break;
		t->tick++;
	}
	/* every deadline <= now is done */
	t->tick = now + 1;
	t->past_min = UINT64_MAX;
	return NULL;
}

/* ---- entries ---- */

int jv_table_insert(struct jv_table *t, const uint8_t session_id[16],
		    void *user, uint32_t *index)
{
	uint32_t b = id_find(t, session_id), s, idx;
	uint32_t low = t->nslots - 1;

	if (t->hash[b])
		return JV_ERR_INVAL;
	if (!t->nfree)
		return JV_ERR_FULL;
	s = t->free_stack[--t->nfree];
	do
		idx = (t->rand_u32(t->rand_ctx) & ~low) | s;
	while (idx == 0);
	memcpy(t->slots[s].id, session_id, 16);
	t->slots[s].user = user;
	t->slots[s].index = idx;
	t->hash[b] = s + 1;
	t->count++;
	*index = idx;
	return 0;
}

static int slot_of(const struct jv_table *t, uint32_t index)
{
	uint32_t s = index & (t->nslots - 1);

	if (index == 0 || t->slots[s].index != index)
		return -1;
	return (int)s;
}

void jv_table_remove(struct jv_table *t, uint32_t index)
{
	int s = slot_of(t, index);

	if (s < 0)
		return;
	timer_unlink(t, (uint32_t)s);
	id_delete(t, id_find(t, t->slots[s].id));
	memset(t->slots[s].id, 0, 16);
	t->slots[s].user = NULL;
	t->slots[s].index = 0;
	t->free_stack[t->nfree++] = (uint32_t)s;
	t->count--;
}

void *jv_table_by_index(const struct jv_table *t, uint32_t index)
{
	int s = slot_of(t, index);

	return s < 0 ? NULL : t->slots[s].user;
}

void *jv_table_by_id(const struct jv_table *t, const uint8_t session_id[16])
{
	uint32_t b = id_find(t, session_id);

	return t->hash[b] ? t->slots[t->hash[b] - 1].user : NULL;
}

uint32_t jv_table_count(const struct jv_table *t)
{
	return t->count;
}

void *jv_table_next(const struct jv_table *t, uint32_t *cursor)
{
	while (*cursor < t->nslots) {
		const struct slot *e = &t->slots[(*cursor)++];

		if (e->index)
			return e->user;
	}
	return NULL;
}
