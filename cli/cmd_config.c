/* jvpn config check FILE: validate a daemon configuration (and the key,
 * policy and hook files it names) without starting anything, and print
 * what would run. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/config.h"
#include "cli/util.h"

static void help(FILE *f)
{
	fprintf(f,
		"Validates a daemon configuration (README.md, jvpn.yaml(5)) as\n"
		"`jvpn server` and `jvpn client` load it: every key, the key files\n"
		"(readable by the owner only), the policy, the on_up and on_down\n"
		"hooks (executable). Opens no socket and no device. On success\n"
		"prints the effective configuration: role, node_id, listeners or\n"
		"transports, tun, peers and their allowed_ips, hooks, policy\n"
		"version; never a key.\n"
		"\n"
		"Exit status: 0 valid, 2 invalid configuration or bad usage.\n");
}

static const struct jv_cmd_spec spec = {
	"config", "usage: jvpn config check FILE\n", help, 2, 2,
};

int jv_cmd_config(int argc, char **argv)
{
	struct jv_config *cfg;
	struct jv_error err = { .file = "-" };
	int first, rc;

	if ((rc = jv_args_parse(&spec, NULL, argc, argv, &first)) != JV_ARGS_RUN)
		return rc;
	if (strcmp(argv[first], "check") != 0)
		return jv_args_error(&spec, "unknown config command '%s'",
				     argv[first]);
	if (sodium_init() < 0 || !(cfg = calloc(1, sizeof(*cfg))))
		return 1;
	if (jv_config_load(cfg, argv[first + 1], &err) != 0) {
		jv_print_error(&err);
		free(cfg);
		return 2;
	}
	jv_config_print(cfg, stdout);
	jv_config_wipe(cfg);
	free(cfg);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "jvpn: cannot write to stdout\n");
		return 1;
	}
	return 0;
}
