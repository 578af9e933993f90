/* jvpn: one binary, subcommands from one table (dispatch and usage). */
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/daemon.h"
#include "cli/util.h"

#ifndef JV_VERSION
#define JV_VERSION "0.1.0"
#endif

static void version_help(FILE *f)
{
	fprintf(f, "Prints the version.\n");
}

static const struct jv_cmd_spec version_spec = {
	"version", "usage: jvpn version\n", version_help, 0, 0,
};

static int cmd_version(int argc, char **argv)
{
	int first, rc;

	if ((rc = jv_args_parse(&version_spec, NULL, argc, argv, &first)) !=
	    JV_ARGS_RUN)
		return rc;
	printf("jvpn %s\n", JV_VERSION);
	return 0;
}

static int cmd_server(int argc, char **argv)
{
	return jv_daemon_main(argc, argv, JV_ROLE_SERVER);
}

static int cmd_client(int argc, char **argv)
{
	return jv_daemon_main(argc, argv, JV_ROLE_CLIENT);
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args, *help;
} commands[] = {
	{ "genkey", jv_cmd_genkey, "", "print a new base64 X25519 private key" },
	{ "pubkey", jv_cmd_pubkey, "< KEY", "read a private key on stdin, print its public key" },
	{ "server", cmd_server, "-c FILE", "run a gateway in the foreground" },
	{ "client", cmd_client, "-c FILE", "run a client in the foreground" },
	{ "ctl", jv_cmd_ctl, "-s SOCKET CMD [ARGS] [--json]", "talk to a running daemon" },
	{ "config", jv_cmd_config, "check FILE", "validate a daemon configuration, print it" },
	{ "policy", jv_cmd_policy, "check FILE", "validate a policy, print the effective policy" },
	{ "sim", jv_cmd_sim, "[--out FILE] [--timeline] FILE...", "run simulation scenarios" },
	{ "audit", jv_cmd_audit, "verify|timeline FILE...", "check audit logs; print a merged timeline" },
	{ "version", cmd_version, "", "print the version" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: jvpn COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %-36s %s\n", commands[i].name,
			commands[i].args, commands[i].help);
	fprintf(f, "\n'jvpn COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "jvpn: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
