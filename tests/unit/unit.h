/* One main for every unit test file (tests/unit/unit_main.c): a test is
 * defined with JV_TEST(name) { ... }, which registers it in a linker
 * section; the shared main runs them in the order they are written, after
 * sodium_init. Adding a test is writing it. A file may also give group
 * hooks with JV_TEST_GROUP(setup, teardown) (either may be NULL) and a
 * reason to skip the whole file with JV_TEST_SKIP_UNLESS(fn): fn returns
 * NULL to run, or the reason to skip (exit 77, which Meson reports). */
#ifndef JV_TEST_UNIT_H
#define JV_TEST_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

struct jv_unit {
	const char *name;
	void (*fn)(void **state);
	int line;                    /* the order they are written in */
};

/* state is cmocka's, for tests that use group hooks: most do not */
#define JV_TEST(name_)                                                      \
	static void name_(void **state __attribute__((unused)));            \
	static const struct jv_unit jv_unit_##name_                         \
		__attribute__((used, section("jv_units"),                  \
			       aligned(sizeof(void *)))) = { #name_, name_, \
							     __LINE__ };     \
	static void name_(void **state __attribute__((unused)))

struct jv_unit_group {
	int (*setup)(void **state);
	int (*teardown)(void **state);
	const char *(*skip_unless)(void);
};

/* At most one per file; the shared main finds it through this symbol. */
#define JV_TEST_GROUP(setup_, teardown_)                                    \
	const struct jv_unit_group jv_unit_group = { setup_, teardown_, NULL }
#define JV_TEST_GROUP_SKIP(setup_, teardown_, skip_)                        \
	const struct jv_unit_group jv_unit_group = { setup_, teardown_, skip_ }

#endif
