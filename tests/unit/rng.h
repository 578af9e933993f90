/* The differential tests' random stream: splitmix64, seeded by setting
 * rng_state, so a failing run can be replayed from its seed. One stream
 * per test file. */
#ifndef JV_TEST_RNG_H
#define JV_TEST_RNG_H

#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif
