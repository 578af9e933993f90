/* Named one-shot timers, as in WireGuard's timers.c: hooks named after what
 * happened arm and cancel them, a tick hands the ones that expired to
 * hooks, and the deadline is the earliest armed timer, never re-derived
 * from facts. The user names the timers with an enum (an index below
 * JV_TIMERS_MAX).
 *
 * A held timer keeps its time but is neither due nor part of the deadline:
 * a schedule that pauses while its owner has nothing to do (the probes of
 * the transport that carries the heartbeats) and resumes where it was. */
#ifndef JV_ENGINE_TIMERS_H
#define JV_ENGINE_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#define JV_TIMERS_MAX 128
#define JV_TIMER_OFF UINT64_MAX

struct jv_timers {
	uint64_t at[JV_TIMERS_MAX];  /* JV_TIMER_OFF: not armed */
	uint64_t held[JV_TIMERS_MAX / 64];  /* bit i: timer i is held */
};

static inline void jv_timers_init(struct jv_timers *t)
{
	for (unsigned i = 0; i < JV_TIMERS_MAX; i++)
		t->at[i] = JV_TIMER_OFF;
	for (unsigned i = 0; i < JV_TIMERS_MAX / 64; i++)
		t->held[i] = 0;
}

static inline void jv_timer_arm(struct jv_timers *t, unsigned i, uint64_t at)
{
	t->at[i] = at;
}

static inline void jv_timer_cancel(struct jv_timers *t, unsigned i)
{
	t->at[i] = JV_TIMER_OFF;
}

static inline void jv_timer_hold(struct jv_timers *t, unsigned i, bool held)
{
	if (held)
		t->held[i / 64] |= 1ull << i % 64;
	else
		t->held[i / 64] &= ~(1ull << i % 64);
}

static inline bool jv_timer_held(const struct jv_timers *t, unsigned i)
{
	return t->held[i / 64] >> i % 64 & 1;
}

static inline bool jv_timer_armed(const struct jv_timers *t, unsigned i)
{
	return t->at[i] != JV_TIMER_OFF;
}

/* Armed, not held, and at or before now. */
static inline bool jv_timer_due(const struct jv_timers *t, unsigned i,
				uint64_t now)
{
	return !jv_timer_held(t, i) && t->at[i] <= now;
}

/* The earliest armed timer that is not held among the first n. */
static inline uint64_t jv_timers_next(const struct jv_timers *t, unsigned n)
{
	uint64_t d = JV_TIMER_OFF;

	for (unsigned i = 0; i < n; i++)
		if (!jv_timer_held(t, i) && t->at[i] < d)
			d = t->at[i];
	return d;
}

#endif
