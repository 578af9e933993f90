/* The shared main of the unit tests (unit.h): collects the JV_TEST
 * entries of the linker section, in the order they are written, and runs
 * them as one cmocka group. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/unit.h"

extern const struct jv_unit __start_jv_units[], __stop_jv_units[];
/* A file without JV_TEST_GROUP has no hooks. */
extern const struct jv_unit_group jv_unit_group __attribute__((weak));

static int by_line(const void *a, const void *b)
{
	const struct jv_unit *x = *(const struct jv_unit *const *)a;
	const struct jv_unit *y = *(const struct jv_unit *const *)b;

	return (x->line > y->line) - (x->line < y->line);
}

int main(void)
{
	size_t n = (size_t)(__stop_jv_units - __start_jv_units);
	const struct jv_unit **order = calloc(n ? n : 1, sizeof(*order));
	struct CMUnitTest *tests = calloc(n ? n : 1, sizeof(*tests));
	const struct jv_unit_group *g = &jv_unit_group;
	const char *skip;
	int rc;

	if (!order || !tests || sodium_init() < 0)
		return 1;
	if (n == 0) {
		fprintf(stderr, "no tests registered\n");
		return 1;
	}
	if (g && g->skip_unless && (skip = g->skip_unless()) != NULL) {
		fprintf(stderr, "skipped: %s\n", skip);
		return 77;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = &__start_jv_units[i];
	qsort(order, n, sizeof(*order), by_line);
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){ .name = order[i]->name,
						.test_func = order[i]->fn };
	rc = _cmocka_run_group_tests(program_invocation_short_name, tests, n,
				     g ? g->setup : NULL,
				     g ? g->teardown : NULL);
	free(tests);
	free(order);
	return rc;
}
