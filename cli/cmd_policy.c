/* jvpn policy check FILE: validate a policy file and print the effective
 * policy (every key, defaults filled in) so an operator sees what runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/util.h"
#include "core/policy.h"

static void help(FILE *f)
{
	fprintf(f,
		"Validates a policy file (CONTRACT section 3): every required key\n"
		"present, no unknown keys, every value of the right type and within\n"
		"its range, and the cross-field rules. On success prints the\n"
		"effective policy, defaults filled in, as YAML. FILE may be '-'\n"
		"for stdin.\n"
		"\n"
		"Exit status: 0 valid, 2 invalid policy or bad usage.\n");
}

static const struct jv_cmd_spec spec = {
	"policy", "usage: jvpn policy check FILE\n", help, 2, 2,
};

static int check(const char *path)
{
	struct jv_policy p;
	struct jv_error err;
	char out[4096];
	int n;

	if (jv_policy_load(path, &p, &err) != 0) {
		jv_print_error(&err);
		return 2;
	}
	n = jv_policy_format(&p, out, sizeof(out));
	if (n < 0) {
		fprintf(stderr, "jvpn: policy too large to print\n");
		return 1;
	}
	if (fwrite(out, 1, (size_t)n, stdout) != (size_t)n ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "jvpn: cannot write to stdout\n");
		return 1;
	}
	return 0;
}

int jv_cmd_policy(int argc, char **argv)
{
	int first, rc;

	if ((rc = jv_args_parse(&spec, NULL, argc, argv, &first)) != JV_ARGS_RUN)
		return rc;
	if (strcmp(argv[first], "check") != 0)
		return jv_args_error(&spec, "unknown policy command '%s'",
				     argv[first]);
	return check(argv[first + 1]);
}
