/* The server's session table.
 *
 * Memory per slot: 48 bytes of slot (id 16, user 8, deadline 8, index,
 * wheel links and bucket 4 each), 4 of free-list stack and 8 of id hash
 * (uint32 buckets, twice the capacity rounded up to a power of two, so the
 * load factor stays <= 0.5): 60 bytes at a power-of-two capacity, at most
 * 68 just above one. Plus a fixed 48 KiB of wheel heads and bitmap.
 * Everything is allocated in jv_table_new; nothing later.
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
#define NO_TIMER UINT64_MAX
/* A rand_u32 that keeps returning 0 must not hang an insert. */
#define INDEX_DRAWS 16

struct slot {
	uint8_t id[16];
	void *user;
	uint64_t deadline;         /* NO_TIMER: not on the wheel */
	uint32_t index;            /* 0: free */
	uint32_t prev, next;       /* wheel bucket list, NONE at the ends */
	uint32_t home;             /* wheel bucket, while a timer is set */
};

struct jv_table {
	uint32_t capacity, count;
	uint32_t slot_mask;        /* capacity rounded up to 2^k, minus 1 */
	struct slot *slots;        /* capacity entries */
	uint32_t *hash;            /* slot + 1, 0 = empty */
	uint32_t hash_mask;
	uint32_t *free_stack, nfree;
	uint8_t sipkey[crypto_shorthash_KEYBYTES];
	uint32_t (*rand_u32)(void *);
	void *rand_ctx;
	/* Every deadline < tick has been expired, except those set later
	 * "in the past": they wait in the bucket of the tick current when they
	 * were set, and past_min is at most the earliest of them. */
	uint64_t tick;
	uint64_t past_min;
	uint32_t ntimers;
	uint32_t bucket[WHEEL];
	uint64_t bitmap[WHEEL / 64];
};

int jv_table_new(struct jv_table **out, uint32_t capacity,
		 uint32_t (*rand_u32)(void *ctx), void *rand_ctx)
{
	struct jv_table *t;
	uint32_t n = 1;

	*out = NULL;
	if (capacity < 1 || capacity > (1u << 20) || !rand_u32)
		return JV_ERR_INVAL;
	while (n < capacity)
		n <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return JV_ERR_NOMEM;
	t->capacity = capacity;
	t->slot_mask = n - 1;
	t->hash_mask = 2 * n - 1;
	t->slots = calloc(capacity, sizeof(*t->slots));
	t->hash = calloc(2 * (size_t)n, sizeof(*t->hash));
	t->free_stack = calloc(capacity, sizeof(*t->free_stack));
	if (!t->slots || !t->hash || !t->free_stack) {
		jv_table_free(t);
		return JV_ERR_NOMEM;
	}
	/* pop order = ascending slot numbers: deterministic and compact */
	for (uint32_t i = 0; i < capacity; i++) {
		t->free_stack[i] = capacity - 1 - i;
		t->slots[i].deadline = NO_TIMER;
		t->slots[i].prev = t->slots[i].next = NONE;
	}
	t->nfree = capacity;
	for (uint32_t i = 0; i < WHEEL; i++)
		t->bucket[i] = NONE;
	t->past_min = NO_TIMER;
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

/* Slot named by a live index, or -1. The full 32 bits must match: the
 * random high bits are what makes a stale index miss after reuse. */
static int slot_of(const struct jv_table *t, uint32_t index)
{
	uint32_t s = index & t->slot_mask;

	if (index == 0 || s >= t->capacity || t->slots[s].index != index)
		return -1;
	return (int)s;
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

/* Bucket holding id, or the empty bucket where it would go. Terminates:
 * at least half the buckets are empty. */
static uint32_t id_find(const struct jv_table *t, const uint8_t id[16])
{
	uint32_t b = id_hash(t, id);

	while (t->hash[b] &&
	       memcmp(t->slots[t->hash[b] - 1].id, id, 16) != 0)
		b = (b + 1) & t->hash_mask;
	return b;
}

/* Backward shift keeps every probe chain unbroken without tombstones, so
 * lookups never slow down as sessions come and go. */
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

	if (e->deadline == NO_TIMER)
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
	e->deadline = NO_TIMER;
	t->ntimers--;
}

static void timer_link(struct jv_table *t, uint32_t s, uint64_t at)
{
	struct slot *e = &t->slots[s];
	uint32_t b = (uint32_t)(at & WHEEL_MASK);

	/* The cursor has passed at's bucket: put it where the next expire
	 * looks first, so a deadline in the past is not a revolution late. */
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
 * or WHEEL if the wheel is empty. At most 65 bitmap words are read. */
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
	int s = slot_of(t, index);

	if (s < 0)
		return;
	timer_unlink(t, (uint32_t)s);
	if (at_ms != NO_TIMER)
		timer_link(t, (uint32_t)s, at_ms);
}

/* Entries in a bucket d ticks ahead are due no sooner than tick + d; the
 * first may belong to a later revolution, which makes the answer early. */
uint64_t jv_table_next_deadline(const struct jv_table *t)
{
	uint32_t d;

	if (!t->ntimers)
		return NO_TIMER;
	d = next_busy(t, (uint32_t)(t->tick & WHEEL_MASK));
	if (d >= WHEEL)
		return t->past_min;
	return t->tick + d < t->past_min ? t->tick + d : t->past_min;
}

static void *pop(struct jv_table *t, uint32_t s, uint32_t *index)
{
	timer_unlink(t, s);
	if (index)
		*index = t->slots[s].index;
	return t->slots[s].user;
}

/* Entries set in the past wait in the current tick's bucket. */
static void *expire_past(struct jv_table *t, uint64_t now, uint32_t *index)
{
	uint32_t b = (uint32_t)(t->tick & WHEEL_MASK);
	uint64_t min = NO_TIMER;

	for (uint32_t s = t->bucket[b]; s != NONE; s = t->slots[s].next) {
		uint64_t at = t->slots[s].deadline;

		if (at <= now && at < t->tick)
			return pop(t, s, index);
		if (at < t->tick && at < min)
			min = at;
	}
	t->past_min = min;
	return NULL;
}

void *jv_table_expire(struct jv_table *t, uint64_t now, uint32_t *index)
{
	void *u;

	/* keeps tick = now + 1 below from wrapping; no deadline is NO_TIMER */
	if (now == NO_TIMER)
		now--;
	if (t->past_min <= now && (u = expire_past(t, now, index)))
		return u;
	/* Past entries are all due once now >= tick, so the walk below never
	 * moves the cursor away from one still waiting. */
	if (now < t->tick)
		return NULL;
	/* a jump longer than the wheel: each bucket needs one look only */
	if (now - t->tick >= WHEEL)
		t->tick = now - WHEEL + 1;
	while (t->ntimers) {
		uint32_t d = next_busy(t, (uint32_t)(t->tick & WHEEL_MASK));
		uint32_t b;

		if (d >= WHEEL || d > now - t->tick)
			break;
		t->tick += d;
		b = (uint32_t)(t->tick & WHEEL_MASK);
		/* later revolutions share the bucket: compare full deadlines */
		for (uint32_t s = t->bucket[b]; s != NONE; s = t->slots[s].next)
			if (t->slots[s].deadline <= now)
				return pop(t, s, index);
		if (t->tick == now)
			break;
		t->tick++;
	}
	/* every deadline <= now is done */
	t->tick = now + 1;
	t->past_min = NO_TIMER;
	return NULL;
}

/* ---- entries ---- */

/* Fresh random high bits per insert; slot 0 with zero high bits would be
 * index 0, which means "none" on the wire, so draw again. */
static uint32_t new_index(struct jv_table *t, uint32_t s)
{
	for (int i = 0; i < INDEX_DRAWS; i++) {
		uint32_t idx = (t->rand_u32(t->rand_ctx) & ~t->slot_mask) | s;

		if (idx)
			return idx;
	}
	return (t->slot_mask + 1) | s;
}

int jv_table_insert(struct jv_table *t, const uint8_t session_id[16],
		    void *user, uint32_t *index)
{
	uint32_t b = id_find(t, session_id), s;

	if (t->hash[b])
		return JV_ERR_INVAL;
	if (!t->nfree)
		return JV_ERR_FULL;
	s = t->free_stack[--t->nfree];
	memcpy(t->slots[s].id, session_id, 16);
	t->slots[s].user = user;
	t->slots[s].index = new_index(t, s);
	t->hash[b] = s + 1;
	t->count++;
	*index = t->slots[s].index;
	return 0;
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

/* The cursor moves past an entry before returning it, so the caller may
 * remove that entry while iterating. */
void *jv_table_next(const struct jv_table *t, uint32_t *cursor)
{
	while (*cursor < t->capacity) {
		const struct slot *e = &t->slots[(*cursor)++];

		if (e->index)
			return e->user;
	}
	return NULL;
}
