/* The policy from a buffer (jv_policy_parse), as an override (keys
 * optional) and as a policy file (every required key), which must agree
 * where the second accepts. A policy that parses and
 * validates is written back (jv_policy_format) as a complete document
 * that parses, with every key required, to one that formats the same. */
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[8192], out2[8192];
	struct jv_policy p, p2;
	struct jv_error err;
	int n, n2;

	jv_policy_defaults(&p2);
	jv_policy_defaults(&p);
	if (jv_policy_parse(&p2, (const char *)data, size, "fuzz.yaml", true,
			    &err) == 0 &&
	    (jv_policy_parse(&p, (const char *)data, size, "fuzz.yaml", false,
			     &err) != 0 ||
	     jv_policy_format(&p, out, sizeof(out)) !=
		     jv_policy_format(&p2, out2, sizeof(out2)) ||
	     strcmp(out, out2) != 0))
		abort();
	jv_policy_defaults(&p);
	if (jv_policy_parse(&p, (const char *)data, size, "fuzz.yaml", false,
			    &err) != 0 ||
	    jv_policy_validate(&p, "fuzz.yaml", &err) != 0)
		return 0;
	n = jv_policy_format(&p, out, sizeof(out));
	if (n < 0)
		abort();
	jv_policy_defaults(&p2);
	if (jv_policy_parse(&p2, out, (size_t)n, "formatted.yaml", true,
			    &err) != 0)
		abort();
	n2 = jv_policy_format(&p2, out2, sizeof(out2));
	if (n2 != n || memcmp(out, out2, (size_t)n) != 0)
		abort();
	return 0;
}
