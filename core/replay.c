/* Sliding anti-replay window, RFC 6479: the bitmap is a ring of 64-bit
 * blocks, one more block than the window needs, so advancing the window only
 * zeroes whole blocks and never shifts bits. */
#include "core/replay.h"

#include <string.h>

#include "core/err.h"

#define BLOCK_BITS 64u

static uint32_t nblocks(const struct jv_replay *r)
{
	return r->bits / BLOCK_BITS + 1;
}

void jv_replay_init(struct jv_replay *r, uint32_t bits)
{
	/* out-of-contract sizes are clamped, not trusted: the map is fixed */
	if (bits < BLOCK_BITS)
		bits = BLOCK_BITS;
	if (bits > JV_REPLAY_MAX_BITS)
		bits = JV_REPLAY_MAX_BITS;
	memset(r, 0, sizeof(*r));
	r->bits = bits - bits % BLOCK_BITS;
}

/* 1 new highest, 0 inside the window, -1 too old or unrepresentable. */
static int classify(const struct jv_replay *r, uint64_t counter)
{
	/* top = counter + 1 would wrap to 0, which means "nothing seen" and
	 * would reopen the whole window: the last counter is never valid. */
	if (counter == UINT64_MAX)
		return -1;
	if (counter >= r->top)
		return 1;
	/* written so that top < bits cannot underflow */
	if (r->top - counter > r->bits)
		return -1;
	return 0;
}

static uint64_t *block_of(struct jv_replay *r, uint64_t counter)
{
	return &r->map[(counter / BLOCK_BITS) % nblocks(r)];
}

static uint64_t bit_of(uint64_t counter)
{
	return 1ull << (counter % BLOCK_BITS);
}

bool jv_replay_check(const struct jv_replay *r, uint64_t counter)
{
	switch (classify(r, counter)) {
	case 1:
		return true;
	case 0:
		return !(r->map[(counter / BLOCK_BITS) % nblocks(r)] &
			 bit_of(counter));
	default:
		return false;
	}
}

int jv_replay_update(struct jv_replay *r, uint64_t counter)
{
	uint64_t *blk;
	int c = classify(r, counter);

	if (c < 0)
		return JV_ERR_REPLAY;
	if (c > 0) {
		/* Blocks strictly after the current top block up to the new
		 * one held counters a full ring ago: zero them. A jump of a
		 * ring or more zeroes every block once and stops. An empty
		 * window (top 0) is all zero already. */
		if (r->top > 0) {
			uint64_t cur = (r->top - 1) / BLOCK_BITS;
			uint64_t n = counter / BLOCK_BITS - cur;

			if (n > nblocks(r))
				n = nblocks(r);
			for (uint64_t i = 1; i <= n; i++)
				r->map[(cur + i) % nblocks(r)] = 0;
		}
		r->top = counter + 1;
	}
	blk = block_of(r, counter);
	if (*blk & bit_of(counter))
		return JV_ERR_REPLAY;
	*blk |= bit_of(counter);
	return 0;
}
