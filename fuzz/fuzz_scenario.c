/* A simulator scenario from a buffer (jv_scenario_parse). */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jv_scenario sc;
	struct jv_error err;

	memset(&err, 0, sizeof(err));
	if (jv_scenario_parse(&sc, (const char *)data, size, "fuzz.yaml",
			      &err) != 0 &&
	    (err.msg[0] == '\0' ||
	     strnlen(err.msg, sizeof(err.msg)) == sizeof(err.msg)))
		abort();
	return 0;
}
