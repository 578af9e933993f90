/* jvpn audit verify: checks audit JSONL files against the state machine's
 * rules (cli/verify.c). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/timeline.h"
#include "cli/timeline_svg.h"
#include "cli/util.h"
#include "cli/verify.h"
#include "core/policy.h"

#define LINE_MAX_BYTES (64u * 1024)

static void help(FILE *f)
{
	fprintf(f,
		"timeline: merges the audit logs of several nodes by time and prints one\n"
		"line per state change and notable event (time, role, node, what, reason).\n"
		"\n"
		"  --svg       draw it instead: a self-contained SVG picture, one row per\n"
		"              node, run and session, the states as coloured bands, the\n"
		"              active transport under them, every switch, denial, transport\n"
		"              death and termination marked with its reason, security\n"
		"              events as small marks, a time axis in seconds from the first\n"
		"              event\n"
		"  --out FILE  write to FILE instead of stdout\n"
		"\n"
		"verify: "
		"reconstructs every session's timeline, per node, from audit JSONL\n"
		"(daemon logs or `jvpn sim --out`) and checks the rules of the state\n"
		"machine: table transitions only, state_version +1 each, gapless seq\n"
		"per node and run, TERMINATED absorbing and last, ATTACHED only by\n"
		"handshake or validated reattach, switches per sliding 60 s within the\n"
		"limit. Each daemon start is a run (run_id): a restart that appends to\n"
		"the log starts a new run at seq 1. Give rotated files oldest first\n"
		"(audit.jsonl.1 audit.jsonl): a run goes on across them, and a file may\n"
		"begin in the middle of a run.\n"
		"\n"
		"  --max-switches-per-min N  the switch limit (default 8, the policy default)\n"
		"  --policy FILE             take the limit from a policy file\n"
		"\n"
		"Exit: 0 all rules hold, 1 a violation (printed as FILE:LINE), 2 bad usage\n"
		"or an unreadable file.\n");
}

static const struct jv_cmd_spec spec = {
	"audit",
	"usage: jvpn audit verify [--max-switches-per-min N | --policy FILE] FILE...\n"
	"       jvpn audit timeline [--svg] [--out FILE] FILE...\n",
	help, 2, -1,
};

/* The switch limit verify checks, and whether an option gave it. */
struct limit {
	uint32_t max;
	bool given;
};

static int limit_from_policy(const char *path, void *dst)
{
	struct limit *l = dst;
	struct jv_policy p;
	struct jv_error err;

	if (jv_policy_load(path, &p, &err) != 0) {
		jv_print_error(&err);
		return 2;
	}
	l->max = p.max_switches_per_min;
	l->given = true;
	return 0;
}

/* 0 ok, 1 violation, 2 unreadable. */
static int verify_file(struct jv_verify *v, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct jv_error err;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, rc = 0;

	if (!f) {
		fprintf(stderr, "jvpn: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if ((size_t)n > LINE_MAX_BYTES) {
			jv_error_set(&err, JV_ERR_INVAL, path, lineno,
				     "line longer than %u bytes", LINE_MAX_BYTES);
			rc = 1;
		} else if (jv_verify_line(v, line, (size_t)n, path, lineno,
					  &err) != 0) {
			rc = 1;
		}
		if (rc) {
			jv_print_error(&err);
			break;
		}
	}
	if (!rc && ferror(f)) {
		fprintf(stderr, "jvpn: %s: %s\n", path, strerror(errno));
		rc = 2;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int parse_max(const char *arg, void *dst)
{
	struct limit *l = dst;
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	/* the policy schema's bounds for switching.max_switches_per_min */
	if (errno || end == arg || *end || arg[0] == '-' || n < 1 || n > 64) {
		fprintf(stderr, "jvpn: --max-switches-per-min: value '%s' out "
			"of range (allowed 1..64)\n", arg);
		return 2;
	}
	l->max = (uint32_t)n;
	l->given = true;
	return 0;
}

static int verify(uint32_t max, int nfiles, char **files)
{
	int rc = 0;
	struct jv_verify *v;
	struct jv_verify_counts c;
	struct jv_error err;

	v = jv_verify_new(max);
	if (!v)
		return 2;
	for (int i = 0; i < nfiles && !rc; i++)
		rc = verify_file(v, files[i]);
	if (!rc && jv_verify_finish(v, &err) != 0) {
		jv_print_error(&err);
		rc = 1;
	}
	if (!rc) {
		jv_verify_counts(v, &c);
		printf("ok: %llu events, %llu sessions, %llu nodes, %llu runs\n",
		       (unsigned long long)c.events,
		       (unsigned long long)c.sessions,
		       (unsigned long long)c.nodes,
		       (unsigned long long)c.runs);
	}
	jv_verify_free(v);
	return rc;
}

struct entry {
	json_t *ev;
	long long ts;
	size_t order;
};

static int by_time(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Writes the merged events; 0, or 2 after saying what failed. */
static int write_timeline(struct entry *e, size_t n, bool wall, bool svg,
			  const char *out)
{
	FILE *f = out ? fopen(out, "w") : stdout;
	json_t **evs = NULL;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "jvpn: %s: %s\n", out, strerror(errno));
		return 2;
	}
	if (svg) {
		evs = calloc(n ? n : 1, sizeof(*evs));
		for (size_t i = 0; evs && i < n; i++)
			evs[i] = e[i].ev;
		if (!evs || jv_timeline_svg(f, evs, n) != 0)
			rc = 2;
		free(evs);
	} else {
		for (size_t i = 0; i < n; i++)
			jv_timeline_print(f, e[i].ev, wall);
	}
	if (fflush(f) != 0 || ferror(f))
		rc = 2;
	if (out && fclose(f) != 0)
		rc = 2;
	if (rc)
		fprintf(stderr, "jvpn: %s: %s\n", out ? out : "stdout",
			errno ? strerror(errno) : "write failed");
	return rc;
}

/* Merges the files by ts_ms (stable) and prints them for people, as
 * lines or, svg, as a picture; to out, or stdout when NULL. */
static int timeline(int nfiles, char **files, bool svg, const char *out)
{
	struct entry *e = NULL;
	size_t n = 0, cap = 0;
	bool wall = false;
	int rc = 0;

	for (int i = 0; i < nfiles && !rc; i++) {
		FILE *f = fopen(files[i], "r");
		char *line = NULL;
		size_t lcap = 0;
		ssize_t len;
		int lineno = 0;

		if (!f) {
			fprintf(stderr, "jvpn: %s: %s\n", files[i], strerror(errno));
			rc = 2;
			break;
		}
		while ((len = getline(&line, &lcap, f)) >= 0) {
			json_t *ev = json_loadb(line, (size_t)len, 0, NULL);

			lineno++;
			if (!json_is_object(ev)) {
				fprintf(stderr, "jvpn: %s:%d: not a JSON object\n",
					files[i], lineno);
				json_decref(ev);
				rc = 2;
				break;
			}
			if (n == cap) {
				struct entry *g = realloc(e, (cap = cap ? 2 * cap
									: 256) *
								     sizeof(*e));
				if (!g) {
					json_decref(ev);
					rc = 2;
					break;
				}
				e = g;
			}
			e[n].ev = ev;
			e[n].ts = (long long)json_integer_value(
				json_object_get(ev, "ts_ms"));
			e[n].order = n;
			/* Unix milliseconds (daemons) or virtual time (sim) */
			wall |= e[n].ts > 1000000000000LL;
			n++;
		}
		free(line);
		fclose(f);
	}
	qsort(e, n, sizeof(*e), by_time);
	if (!rc)
		rc = write_timeline(e, n, wall, svg, out);
	for (size_t i = 0; i < n; i++)
		json_decref(e[i].ev);
	free(e);
	return rc;
}

int jv_cmd_audit(int argc, char **argv)
{
	struct limit lim = { 8, false };   /* the policy default */
	bool svg = false;
	const char *out = NULL;
	const struct jv_opt opts[] = {
		{ "max-switches-per-min", 0, "N", &lim, parse_max },
		{ "policy", 0, "FILE", &lim, limit_from_policy },
		{ "svg", 0, NULL, &svg, NULL },
		{ "out", 0, "FILE", &out, NULL },
		{ NULL, 0, NULL, NULL, NULL },
	};
	int first, rc;

	if ((rc = jv_args_parse(&spec, opts, argc, argv, &first)) != JV_ARGS_RUN)
		return rc;
	if (strcmp(argv[first], "verify") == 0) {
		if (svg || out)
			return jv_args_error(&spec, "verify takes no --%s",
					     svg ? "svg" : "out");
		return verify(lim.max, argc - first - 1, argv + first + 1);
	}
	if (strcmp(argv[first], "timeline") != 0)
		return jv_args_error(&spec, "unknown command '%s'", argv[first]);
	if (lim.given)
		return jv_args_error(&spec, "timeline takes no "
				     "--max-switches-per-min or --policy");
	return timeline(argc - first - 1, argv + first + 1, svg, out);
}
