/* The worlds the endpoint and ctl targets start each input from (fuzz.h:
 * fz_world_get, fz_world_put).
 *
 * In the replay programs (make test) each input gets a world built anew
 * and freed after, as it always did. In the libFuzzer programs
 * (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, fuzz/meson.build) building
 * two endpoints and running a handshake cost far more than the input, so
 * each start state is built once and restored after every input
 * (docs/FUZZING.md "Speed"). The restore is exact: the engine allocates
 * only when an endpoint is built or its peers replaced, keeps no state
 * outside its allocations (no static variables in engine/, core/,
 * proto/), and draws randomness from the world's generator. So an
 * endpoint's whole state is the contents of the heap chunks allocated
 * while the world was built, which the allocator hooks below record,
 * plus the struct world. After an input the chunks get their contents
 * back, and the world its fields. An input that freed one of those
 * chunks or left a new one allocated (a ctl reload that replaced the
 * peers) cannot be undone that way: the world is freed and built again.
 * Either way the next input starts from the state a fresh program would
 * give it, so a crash replays alone (fuzz_TARGET FILE) as it happened.
 * JV_FUZZ_SNAPSHOT=0 turns it off; JV_FUZZ_DIGEST=1 prints, per input,
 * a hash of the input and one of the state it left, so the two ways can
 * be compared over a corpus (scripts/fuzz.sh does, before each run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

static struct world worlds[FZ_START__COUNT];

static void build(struct world *w, enum fz_start start)
{
	fz_world_init(w);
	if (start == FZ_START_ATTACHED) {
		fz_handshake(w);
	} else if (start == FZ_START_BIRTH) {
		jv_endpoint_start(w->c.ep, 0);
		w->c.nout = 0;
	}
}

/* ---- the digest (JV_FUZZ_DIGEST=1) ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t node_digest(uint64_t h, const struct world *w,
			    const struct node *n)
{
	struct jv_endpoint_stats st;
	struct jv_session_info si;
	uint32_t cur = 0;

	jv_endpoint_stats(n->ep, &st);
	h = fnv(h, &st, sizeof(st));
	while (jv_endpoint_session_next(n->ep, &cur, w->now, &si)) {
		h = fnv(h, si.session_id, sizeof(si.session_id));
		h = fnv(h, &si.state, sizeof(si.state));
		h = fnv(h, &si.state_version, sizeof(si.state_version));
		h = fnv(h, &si.key_epoch, sizeof(si.key_epoch));
		h = fnv(h, &si.bytes_in, sizeof(si.bytes_in));
		h = fnv(h, &si.bytes_out, sizeof(si.bytes_out));
	}
	for (int i = 0; i < n->nout; i++)
		h = fnv(h, n->out[i].buf, n->out[i].len);
	for (int i = 0; i < n->nevents; i++)
		h = fnv(h, n->events[i], strlen(n->events[i]));
	h = fnv(h, &n->sent, sizeof(n->sent));
	h = fnv(h, &n->events_seen, sizeof(n->events_seen));
	h = fnv(h, &n->delivered, sizeof(n->delivered));
	return h;
}

static void digest(const struct world *w, const uint8_t *data, size_t size)
{
	static int on = -1;
	uint64_t h = 0xcbf29ce484222325ull;

	if (on < 0)
		on = getenv("JV_FUZZ_DIGEST") != NULL;
	if (!on)
		return;
	h = node_digest(h, w, &w->c);
	h = node_digest(h, w, &w->s);
	h = fnv(h, &w->now, sizeof(w->now));
	printf("fzdigest %016llx %016llx\n",
	       (unsigned long long)fnv(0xcbf29ce484222325ull, data, size),
	       (unsigned long long)h);
	fflush(stdout);
}

#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION

struct world *fz_world_get(enum fz_start start)
{
	build(&worlds[start], start);
	return &worlds[start];
}

void fz_world_put(struct world *w, const uint8_t *data, size_t size)
{
	digest(w, data, size);
	world_fini(w);
}

#else /* the libFuzzer programs: built once, restored */

#include <pthread.h>
#include <sanitizer/allocator_interface.h>

#define MAX_CHUNKS 64           /* a world makes about 20 */
#define MAX_FRESH 1024          /* allocated during an input, live */

struct chunk {
	void *p;
	size_t len;
	void *copy;
};

static struct kept {
	bool ready;
	int nchunks;
	struct chunk chunk[MAX_CHUNKS];
	struct world w;         /* the world as built */
} kept[FZ_START__COUNT];

/* What the hooks do: record (while a world is built), watch (during an
 * input), or nothing (libFuzzer's own allocations, other threads). */
static enum { IDLE, RECORD, WATCH } mode;
static pthread_t owner;
static struct kept *recording;
static bool dirty;              /* the input freed or kept a chunk */
static void *fresh[MAX_FRESH];
static int nfresh;
static uint64_t n_restored, n_rebuilt;

__attribute__((destructor)) static void print_stats(void)
{
	if ((n_restored || n_rebuilt) && getenv("JV_FUZZ_STATS"))
		fprintf(stderr, "worlds restored %llu, rebuilt %llu\n",
			(unsigned long long)n_restored,
			(unsigned long long)n_rebuilt);
}

static void on_malloc(const volatile void *vp, size_t len)
{
	void *p = (void *)vp;

	if (mode == IDLE || !pthread_equal(pthread_self(), owner))
		return;
	if (mode == RECORD) {
		if (recording->nchunks == MAX_CHUNKS)
			dirty = true;   /* cannot keep it: never restored */
		else
			recording->chunk[recording->nchunks++] =
				(struct chunk){ p, len, NULL };
		return;
	}
	if (nfresh == MAX_FRESH)
		dirty = true;
	else
		fresh[nfresh++] = p;
}

static void on_free(const volatile void *vp)
{
	void *p = (void *)vp;

	if (mode == IDLE || !pthread_equal(pthread_self(), owner) || !p)
		return;
	if (mode == RECORD) {
		for (int i = 0; i < recording->nchunks; i++)
			if (recording->chunk[i].p == p) {
				recording->chunk[i] =
					recording->chunk[--recording->nchunks];
				return;
			}
		return;
	}
	for (int i = nfresh - 1; i >= 0; i--)
		if (fresh[i] == p) {
			fresh[i] = fresh[--nfresh];
			return;
		}
	for (int k = 0; k < FZ_START__COUNT; k++)
		for (int i = 0; i < kept[k].nchunks; i++)
			if (kept[k].chunk[i].p == p)
				dirty = true;
}

static bool enabled(void)
{
	static int on = -1;

	if (on < 0) {
		const char *e = getenv("JV_FUZZ_SNAPSHOT");

		on = !(e && strcmp(e, "0") == 0);
		owner = pthread_self();
		if (on && __sanitizer_install_malloc_and_free_hooks(on_malloc,
								    on_free) == 0)
			on = 0;
	}
	return on;
}

static void forget(struct kept *k)
{
	for (int i = 0; i < k->nchunks; i++)
		free(k->chunk[i].copy);
	k->nchunks = 0;
	k->ready = false;
}

/* Builds the world, recording its chunks, and keeps a copy of each. */
static void build_kept(enum fz_start start)
{
	struct kept *k = &kept[start];

	forget(k);
	dirty = false;
	recording = k;
	mode = RECORD;
	build(&worlds[start], start);
	mode = IDLE;
	for (int i = 0; i < k->nchunks; i++) {
		k->chunk[i].copy = malloc(k->chunk[i].len);
		if (!k->chunk[i].copy)
			abort();
		memcpy(k->chunk[i].copy, k->chunk[i].p, k->chunk[i].len);
	}
	k->w = worlds[start];
	k->ready = !dirty;
}

/* The world's fields back. What lies past nout in out[] and past nevents
 * in events[] is written before it is read, so it is left as it is. */
static void restore_node(struct node *n, const struct node *was)
{
	n->ep = was->ep;
	n->nout = was->nout;
	memcpy(n->out, was->out, (size_t)was->nout * sizeof(n->out[0]));
	memcpy(n->events, was->events, (size_t)was->nevents * JV_EVENT_MAX);
	memcpy(&n->nevents, &was->nevents,
	       sizeof(*n) - offsetof(struct node, nevents));
}

struct world *fz_world_get(enum fz_start start)
{
	if (!enabled()) {
		build(&worlds[start], start);
		return &worlds[start];
	}
	if (!kept[start].ready)
		build_kept(start);
	nfresh = 0;
	dirty = false;
	mode = WATCH;
	return &worlds[start];
}

void fz_world_put(struct world *w, const uint8_t *data, size_t size)
{
	enum fz_start start = (enum fz_start)(w - worlds);
	struct kept *k = &kept[start];

	mode = IDLE;
	digest(w, data, size);
	if (!enabled()) {
		world_fini(w);
		return;
	}
	if (dirty || nfresh > 0 || !k->ready) {
		/* the engine's own pointers free what it holds now; the next
		 * input gets a world built anew */
		world_fini(w);
		forget(k);
		n_rebuilt++;
		return;
	}
	n_restored++;
	for (int i = 0; i < k->nchunks; i++)
		memcpy(k->chunk[i].p, k->chunk[i].copy, k->chunk[i].len);
	restore_node(&w->c, &k->w.c);
	restore_node(&w->s, &k->w.s);
	memcpy(&w->now, &k->w.now, sizeof(*w) - offsetof(struct world, now));
}

#endif
