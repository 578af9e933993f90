/* Subcommands. Each takes argv with argv[0] = the subcommand's name and
 * returns the process exit code: 0 ok, 1 failed check, 2 bad usage/input. */
#ifndef JV_CLI_CMDS_H
#define JV_CLI_CMDS_H

#include <stdbool.h>
#include <stdio.h>

int jv_cmd_genkey(int argc, char **argv);
int jv_cmd_pubkey(int argc, char **argv);
int jv_cmd_policy(int argc, char **argv);   /* "policy check FILE" */
int jv_cmd_config(int argc, char **argv);   /* "config check FILE" */
int jv_cmd_sim(int argc, char **argv);
int jv_cmd_audit(int argc, char **argv);    /* "audit verify FILE..." */
int jv_cmd_ctl(int argc, char **argv);      /* "ctl -s SOCKET CMD ..." */

/* One option of a subcommand (a table, NULL name last). A flag sets
 * *(bool *)dst; an option with a value stores it in *(const char **)dst,
 * or, with set, has set parse it (0, or 2 after saying what is wrong). */
struct jv_opt {
	const char *name;                /* long name, without "--" */
	char short_name;                 /* 0: none */
	const char *value;               /* "FILE"; NULL: a flag */
	void *dst;
	int (*set)(const char *arg, void *dst);
};

/* What a subcommand accepts, and its usage. */
struct jv_cmd_spec {
	const char *name;                /* "sim", "audit" */
	const char *synopsis;            /* "usage: jvpn sim ...\n", 1+ lines */
	void (*help)(FILE *f);           /* --help: the rest of the page */
	int min_operands, max_operands;  /* max -1: any number */
};

#define JV_ARGS_RUN (-1)

/* Reads argv[1..argc) the way GNU getopt_long does with permutation:
 * options before, between and after operands, "--" ends the options,
 * -h/--help anywhere prints the usage. The operands end up, in order, at
 * argv[*first..argc). Returns JV_ARGS_RUN when the command should run,
 * else its exit code: 0 after --help, 2 after a usage error (said on
 * stderr with the synopsis). */
int jv_args_parse(const struct jv_cmd_spec *spec, const struct jv_opt *opts,
		  int argc, char **argv, int *first);

/* A usage error after parsing: "jvpn NAME: msg", then the synopsis.
 * Returns 2. */
int jv_args_error(const struct jv_cmd_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
