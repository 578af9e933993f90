/* The server's session table.
 *
 * Memory per slot: 48 bytes of slot (id 16, user 8, deadline 8, index,
 * wheel links and bucket 4 each) and 8 of id hash (uint32 buckets, twice
 * the capacity rounded up to a power of two, so the load factor stays
 * <= 0.5): 56 bytes at a power-of-two capacity, under 64 just above one.
 * The free list is threaded through the unused wheel link of free slots,
 * so it costs nothing. The wheel adds 4.125 bytes per bucket: 16.5 KiB up
 * to 64Ki sessions, then a quarter byte per slot (264 KiB at 1Mi).
 * Everything is allocated in jv_table_new; nothing later.
 *
 * Receiver indices carry the slot number in the low bits and random high
 * bits, so a stale or guessed index rarely names a live session. The id
 * hash is SipHash with a per-table random key: a peer choosing session ids
 * cannot build long probe chains. Timers are a hashed wheel of 1 ms ticks
 * with a bitmap of non-empty buckets; it grows with the capacity so that
 * buckets stay short and a revolution covers common timeouts, since every
 * entry of a bucket is looked at each time the cursor passes it. */
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/table.h"

#define WHEEL_MIN 4096u
#define WHEEL_MAX 65536u
/* slots per bucket before the wheel grows past WHEEL_MIN */
#define WHEEL_LOAD 16u
#define NONE UINT32_MAX
#define OVERDUE UINT32_MAX         /* slot.home: on the overdue list */
#define NO_TIMER UINT64_MAX
/* A rand_u32 that keeps returning 0 must not hang an insert. */
#define INDEX_DRAWS 16

struct slot {
	uint8_t id[16];
	void *user;
	uint64_t deadline;         /* NO_TIMER: not on the wheel */
	uint32_t index;            /* 0: free */
	uint32_t prev, next;       /* timer list (free list: next only) */
	uint32_t home;             /* bucket or OVERDUE, while a timer is set */
};

struct jv_table {
	uint32_t capacity, count;
	uint32_t slot_mask;        /* capacity rounded up to 2^k, minus 1 */
	struct slot *slots;        /* capacity entries */
	uint32_t *hash;            /* slot + 1, 0 = empty */
	uint32_t hash_mask;
	uint32_t free_head;        /* stack of free slots, through .next */
	uint8_t sipkey[crypto_shorthash_KEYBYTES];
	uint32_t (*rand_u32)(void *);
	void *rand_ctx;
	/* Every entry on the wheel is due at tick or later: a deadline set
	 * below tick goes on the overdue list instead, and past_min is at most
	 * the earliest there (NO_TIMER when the list is empty). */
	uint64_t tick;
	uint32_t overdue;
	uint64_t past_min;
	/* Where the walk resumes in the bucket of tick: the entries before it
	 * were looked at and are a revolution or more away. Without it, each
	 * pop would rescan them: quadratic in the bucket's length. */
	uint32_t scan;
	bool scan_ok;
	uint32_t ntimers;
	uint32_t wheel;            /* buckets, a power of two */
	uint32_t *bucket;          /* head slot, NONE if empty */
	uint64_t *bitmap;          /* bit set: bucket not empty */
};

int jv_table_new(struct jv_table **out, uint32_t capacity,
		 uint32_t (*rand_u32)(void *ctx), void *rand_ctx)
{
	struct jv_table *t;
	uint32_t n = 1, w;

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
	w = n / WHEEL_LOAD;
	t->wheel = w < WHEEL_MIN ? WHEEL_MIN : w > WHEEL_MAX ? WHEEL_MAX : w;
	t->bucket = malloc(t->wheel * sizeof(*t->bucket));
	t->bitmap = calloc(t->wheel / 64, sizeof(*t->bitmap));
	if (!t->slots || !t->hash || !t->bucket || !t->bitmap) {
		jv_table_free(t);
		return JV_ERR_NOMEM;
	}
	/* pop order = ascending slot numbers: deterministic and compact */
	for (uint32_t i = 0; i < capacity; i++) {
		t->slots[i].deadline = NO_TIMER;
		t->slots[i].prev = NONE;
		t->slots[i].next = i + 1 < capacity ? i + 1 : NONE;
	}
	t->free_head = 0;
	for (uint32_t i = 0; i < t->wheel; i++)
		t->bucket[i] = NONE;
	t->overdue = NONE;
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
	free(t->bucket);
	free(t->bitmap);
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

static uint32_t *list_of(struct jv_table *t, uint32_t home)
{
	return home == OVERDUE ? &t->overdue : &t->bucket[home];
}

static void timer_unlink(struct jv_table *t, uint32_t s)
{
	struct slot *e = &t->slots[s];
	uint32_t *head;

	if (e->deadline == NO_TIMER)
		return;
	head = list_of(t, e->home);
	if (t->scan_ok && t->scan == s)
		t->scan = e->next;
	if (e->prev != NONE)
		t->slots[e->prev].next = e->next;
	else
		*head = e->next;
	if (e->next != NONE)
		t->slots[e->next].prev = e->prev;
	if (*head == NONE) {
		if (e->home == OVERDUE)
			t->past_min = NO_TIMER;
		else
			bit_clear(t, e->home);
	}
	e->prev = e->next = NONE;
	e->deadline = NO_TIMER;
	t->ntimers--;
}

static void timer_link(struct jv_table *t, uint32_t s, uint64_t at)
{
	struct slot *e = &t->slots[s];
	uint32_t *head;

	e->deadline = at;
	if (at < t->tick) {
		/* the cursor has passed at's bucket: not a revolution late */
		e->home = OVERDUE;
		if (at < t->past_min)
			t->past_min = at;
	} else {
		e->home = (uint32_t)(at & (t->wheel - 1));
		bit_set(t, e->home);
		/* it would sit before the resume point, and is due */
		if (at == t->tick)
			t->scan_ok = false;
	}
	head = list_of(t, e->home);
	e->prev = NONE;
	e->next = *head;
	if (e->next != NONE)
		t->slots[e->next].prev = s;
	*head = s;
	t->ntimers++;
}

/* Distance from bucket b to the next non-empty bucket (0 if b itself),
 * or the wheel size if it is empty. Reads one word per 64 buckets, plus
 * one. */
static uint32_t next_busy(const struct jv_table *t, uint32_t b)
{
	for (uint32_t d = 0; d <= t->wheel; ) {
		uint32_t cur = (b + d) & (t->wheel - 1);
		uint64_t word = t->bitmap[cur / 64] >> (cur % 64);

		if (word)
			return d + (uint32_t)__builtin_ctzll(word);
		d += 64 - cur % 64;
	}
	return t->wheel;
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

/* A wheel entry d buckets ahead of the cursor is due no sooner than
 * tick + d; the first may belong to a later revolution, which makes the
 * answer early, never late. */
uint64_t jv_table_next_deadline(const struct jv_table *t)
{
	uint32_t d;

	if (!t->ntimers)
		return NO_TIMER;
	d = next_busy(t, (uint32_t)(t->tick & (t->wheel - 1)));
	if (d >= t->wheel)
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

/* Only a caller whose clock went back finds overdue entries not yet due;
 * once none is due, past_min becomes exact. */
static void *expire_overdue(struct jv_table *t, uint64_t now, uint32_t *index)
{
	uint64_t min = NO_TIMER;

	for (uint32_t s = t->overdue; s != NONE; s = t->slots[s].next) {
		uint64_t at = t->slots[s].deadline;

		if (at <= now)
			return pop(t, s, index);
		if (at < min)
			min = at;
	}
	t->past_min = min;
	return NULL;
}

/* Time jumped by a revolution or more: every bucket is due for a look
 * anyway, so move everything due to the overdue list in one pass. The
 * cursor then never stands inside a window whose buckets ahead hold
 * entries already late, which next_deadline could not see. */
static void sweep(struct jv_table *t, uint64_t now)
{
	for (uint32_t w = 0; w < t->wheel / 64; w++) {
		uint64_t word = t->bitmap[w];

		while (word) {
			uint32_t b = w * 64 + (uint32_t)__builtin_ctzll(word);
			uint32_t s = t->bucket[b], next;

			word &= word - 1;
			for (; s != NONE; s = next) {
				uint64_t at = t->slots[s].deadline;

				next = t->slots[s].next;
				if (at <= now) {
					timer_unlink(t, s);
					timer_link(t, s, at);
				}
			}
		}
	}
}

static void move_tick(struct jv_table *t, uint64_t tick)
{
	if (tick != t->tick)
		t->scan_ok = false;
	t->tick = tick;
}

/* Later revolutions share the bucket: compare full deadlines. */
static void *walk_bucket(struct jv_table *t, uint64_t now, uint32_t *index)
{
	uint32_t b = (uint32_t)(t->tick & (t->wheel - 1));
	uint32_t s = t->scan_ok ? t->scan : t->bucket[b];

	for (; s != NONE; s = t->slots[s].next) {
		if (t->slots[s].deadline <= now) {
			uint32_t next = t->slots[s].next;
			void *u = pop(t, s, index);

			t->scan = next;
			t->scan_ok = true;
			return u;
		}
	}
	return NULL;
}

void *jv_table_expire(struct jv_table *t, uint64_t now, uint32_t *index)
{
	void *u;

	/* keeps tick = now + 1 below from wrapping; no deadline is NO_TIMER */
	if (now == NO_TIMER)
		now--;
	if (t->past_min <= now && (u = expire_overdue(t, now, index)))
		return u;
	if (now < t->tick)
		return NULL;
	if (now - t->tick >= t->wheel) {
		move_tick(t, now + 1);
		sweep(t, now);
		return expire_overdue(t, now, index);
	}
	while (t->ntimers) {
		uint32_t d = next_busy(t, (uint32_t)(t->tick & (t->wheel - 1)));

		if (d >= t->wheel || d > now - t->tick)
			break;
		move_tick(t, t->tick + d);
		if ((u = walk_bucket(t, now, index)) != NULL)
			return u;
		if (t->tick == now)
			break;
		move_tick(t, t->tick + 1);
	}
	move_tick(t, now + 1);
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
	if (t->free_head == NONE)
		return JV_ERR_FULL;
	s = t->free_head;
	t->free_head = t->slots[s].next;
	t->slots[s].next = NONE;
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
	t->slots[s].next = t->free_head;
	t->free_head = (uint32_t)s;
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
