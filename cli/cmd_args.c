/* Options anywhere (CONTRACT section 11): every subcommand's arguments go
 * through jv_args_parse(), getopt_long over the command's option table. */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"

#define OPTS_MAX 8
#define VAL_BASE 256            /* getopt values of long-only options */

int jv_args_error(const struct jv_cmd_spec *spec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "jvpn %s: ", spec->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s(jvpn %s --help for more)\n", spec->synopsis,
		spec->name);
	return 2;
}

static const struct jv_opt *by_val(const struct jv_opt *opts, int val)
{
	for (int i = 0; opts && opts[i].name; i++)
		if (val == (opts[i].short_name ? opts[i].short_name
					       : VAL_BASE + i))
			return &opts[i];
	return NULL;
}

/* JV_ARGS_RUN, or 2 when set found the value wrong (and said so). */
static int store(const struct jv_opt *o, const char *arg)
{
	if (!o->value)
		*(bool *)o->dst = true;
	else if (o->set)
		return o->set(arg, o->dst) ? 2 : JV_ARGS_RUN;
	else
		*(const char **)o->dst = arg;
	return JV_ARGS_RUN;
}

/* The error getopt found at argv[optind - 1]. */
static int bad_option(const struct jv_cmd_spec *spec,
		      const struct jv_opt *opts, int c, char **argv)
{
	const struct jv_opt *o = by_val(opts, optopt);
	char name[64] = "";

	if (o && o->short_name && argv[optind - 1][1] != '-')
		snprintf(name, sizeof(name), "-%c", o->short_name);
	else if (o)
		snprintf(name, sizeof(name), "--%s", o->name);
	if (c == ':')
		return jv_args_error(spec, "%s needs a value (%s)", name,
				     o && o->value ? o->value : "");
	if (o)
		return jv_args_error(spec, "%s takes no value", name);
	if (optopt > 0 && optopt < VAL_BASE)
		return jv_args_error(spec, "unknown option '-%c'", optopt);
	return jv_args_error(spec, "unknown option '%s'", argv[optind - 1]);
}

int jv_args_parse(const struct jv_cmd_spec *spec, const struct jv_opt *opts,
		  int argc, char **argv, int *first)
{
	/* '-': operands come back in order as value 1, whatever
	 * POSIXLY_CORRECT says; ':': a missing value is told apart */
	char shorts[3 + 2 * OPTS_MAX + 2] = "-:h", *sp = shorts + 3;
	struct option longs[OPTS_MAX + 2] = { { "help", no_argument, NULL, 'h' } };
	char **operands = calloc((size_t)argc + 1, sizeof(*operands));
	int n = 0, c, rc = JV_ARGS_RUN;

	if (!operands)
		return 2;
	for (int i = 0; opts && opts[i].name && i < OPTS_MAX; i++) {
		int val = opts[i].short_name ? opts[i].short_name : VAL_BASE + i;

		longs[i + 1] = (struct option){ opts[i].name, opts[i].value
			? required_argument : no_argument, NULL, val };
		if (opts[i].short_name) {
			*sp++ = opts[i].short_name;
			if (opts[i].value)
				*sp++ = ':';
		}
	}
	*sp = '\0';
	opterr = 0;
	optind = 0;                  /* GNU: start over (tests call twice) */
	while (rc == JV_ARGS_RUN &&
	       (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c == 1) {
			operands[n++] = optarg;
		} else if (c == 'h') {
			printf("%s\n", spec->synopsis);
			if (spec->help)
				spec->help(stdout);
			rc = 0;
		} else if (c == '?' || c == ':') {
			rc = bad_option(spec, opts, c, argv);
		} else {
			rc = store(by_val(opts, c), optarg);
		}
	}
	/* after "--": operands only */
	while (rc == JV_ARGS_RUN && optind < argc)
		operands[n++] = argv[optind++];
	if (rc == JV_ARGS_RUN && n < spec->min_operands)
		rc = jv_args_error(spec, n ? "too few arguments"
					   : "arguments missing");
	if (rc == JV_ARGS_RUN && spec->max_operands >= 0 &&
	    n > spec->max_operands)
		rc = jv_args_error(spec, "unexpected argument '%s'",
				   operands[spec->max_operands]);
	if (rc == JV_ARGS_RUN) {
		*first = argc - n;
		memcpy(argv + *first, operands, (size_t)n * sizeof(*argv));
	}
	free(operands);
	return rc;
}
