/* jvpn sim: runs scenarios, prints PASS/FAIL, writes events, and prints a
 * readable timeline for people; with --fuzz, draws scenarios from seeds,
 * checks the invariants on each run and shrinks the failures. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cmds.h"
#include "cli/timeline.h"
#include "cli/util.h"
#include "cli/verify.h"
#include "sim/fuzz.h"
#include "sim/sim.h"

static void help(FILE *f)
{
	fprintf(f,
		"Runs each scenario: a real client and server engine over simulated\n"
		"paths on a virtual clock. Prints 'PASS name' or 'FAIL name: why' per\n"
		"scenario; exits 1 if any failed, 2 on a bad scenario file.\n"
		"\n"
		"  --out FILE        write the merged JSONL events (one scenario only)\n"
		"  --timeline        print each scenario's state changes readably\n"
		"  --invariants      also check the fuzzer's invariants on each run\n"
		"\n"
		"The fault fuzzer (docs/simulator.md): no scenario operands.\n"
		"  --fuzz N          run N seeds, each a random policy and fault schedule,\n"
		"                    and check every invariant; exit 1 if one broke\n"
		"  --from S          the first seed (default 1)\n"
		"  --shrink-to DIR   shrink each failure and write DIR/fuzz-SEED.yaml\n"
		"  --max-failures K  stop after K failures (default 20)\n"
		"  --plant limiter   test hook: the endpoints allow one switch per\n"
		"                    minute more than the policy the checker holds\n");
}

static const struct jv_cmd_spec spec = {
	"sim",
	"usage: jvpn sim [--out FILE] [--timeline] [--invariants] SCENARIO.yaml...\n"
	"       jvpn sim --fuzz N [--from S] [--shrink-to DIR] [--max-failures K]\n",
	help, 0, -1,
};

/* One line per state change and per notable event. */
static void print_timeline(const struct jv_sim_result *res)
{
	for (size_t i = 0; i < res->nlines; i++) {
		json_t *ev = json_loads(res->lines[i], 0, NULL);

		if (ev)
			jv_timeline_print(stdout, ev, false);
		json_decref(ev);
	}
}

static int write_events(const char *path, const struct jv_sim_result *res)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		return -1;
	}
	for (size_t i = 0; i < res->nlines; i++)
		fprintf(f, "%s\n", res->lines[i]);
	return fclose(f) == 0 ? 0 : -1;
}

/* `jvpn audit verify` on the events in memory. */
static int verify_lines(char *const *lines, size_t n, uint32_t max_switches,
			char *why, size_t cap)
{
	struct jv_verify *v = jv_verify_new(max_switches);
	struct jv_error err;
	int rc = 0;

	if (!v) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = jv_verify_line(v, lines[i], strlen(lines[i]), "events",
				    (int)i + 1, &err);
	if (!rc)
		rc = jv_verify_finish(v, &err);
	if (rc)
		jv_error_format(&err, why, cap);
	jv_verify_free(v);
	return rc;
}

static int parse_u64(const char *arg, void *dst)
{
	char *end;

	errno = 0;
	*(uint64_t *)dst = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-') {
		fprintf(stderr, "jvpn sim: '%s' is not a number\n", arg);
		return 2;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes the shrunk scenario and checks that it fails the same way when
 * read back from the file. */
static int save(const char *dir, const struct jv_scenario *sc,
		const struct jv_fuzz_opts *o, const struct jv_fuzz_verdict *v)
{
	char path[512];
	struct jv_scenario *back = calloc(1, sizeof(*back));
	struct jv_fuzz_verdict again;
	struct jv_error err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc = -1;

	if (!back)
		return -1;
	snprintf(path, sizeof(path), "%s/fuzz-%llu.yaml", dir,
		 (unsigned long long)sc->seed);
	f = fopen(path, "w");
	if (!f || jv_fuzz_write(f, sc, v) != 0 || fclose(f) != 0) {
		perror(path);
		goto out;
	}
	if (jv_read_file(path, JV_FILE_MAX, &buf, &len, &err) != 0 ||
	    jv_scenario_parse(back, buf, len, path, &err) != 0) {
		jv_print_error(&err);
		goto out;
	}
	jv_fuzz_run(back, o, &again);
	printf("  wrote %s (%u faults, %u paths, %llu ms); read back it %s\n",
	       path, sc->nfaults, sc->npaths,
	       (unsigned long long)sc->duration_ms,
	       again.rule == v->rule ? "fails the same way"
				     : "no longer fails (BUG in the writer)");
	rc = again.rule == v->rule ? 0 : -1;
out:
	free(buf);
	free(back);
	return rc;
}

static int fuzz(uint64_t n, uint64_t from, const char *dir, uint64_t max_fail,
		const struct jv_fuzz_opts *o)
{
	struct jv_scenario *sc = malloc(sizeof(*sc));
	uint64_t failed = 0, by_rule[JV_FZ__COUNT] = { 0 }, ran = 0;
	struct jv_fuzz_stats st = { 0 };
	double t0 = now_s();

	if (!sc)
		return 1;
	if (dir && mkdir(dir, 0777) != 0 && errno != EEXIST) {
		perror(dir);
		free(sc);
		return 2;
	}
	for (uint64_t seed = from; seed < from + n && failed < max_fail; seed++) {
		struct jv_fuzz_verdict v;

		jv_fuzz_generate(seed, sc);
		ran++;
		if (jv_fuzz_run(sc, o, &v) != 0) {
			printf("FAIL seed %llu: cannot run\n",
			       (unsigned long long)seed);
			failed++;
			continue;
		}
		st.events += v.st.events;
		st.switches += v.st.switches;
		st.denials += v.st.denials;
		st.terms += v.st.terms;
		st.ttl_terms += v.st.ttl_terms;
		st.ttl_checked += v.st.ttl_checked;
		st.attacked_runs += v.st.attacked_runs;
		st.quiet_runs += v.st.quiet_runs;
		if (v.rule == JV_FZ_OK)
			continue;
		failed++;
		by_rule[v.rule]++;
		printf("FAIL seed %llu: %s: %s\n", (unsigned long long)seed,
		       jv_fuzz_rule_name(v.rule), v.why);
		if (dir) {
			uint32_t nf = sc->nfaults, np = sc->npaths;
			unsigned runs = jv_fuzz_shrink(sc, o, &v);

			printf("  shrunk in %u runs from %u faults over %u paths: "
			       "%s: %s\n", runs, nf, np,
			       jv_fuzz_rule_name(v.rule), v.why);
			save(dir, sc, o, &v);
		}
		fflush(stdout);
	}
	printf("fuzz: %llu seeds from %llu, %llu failed, %.1f s\n",
	       (unsigned long long)ran, (unsigned long long)from,
	       (unsigned long long)failed, now_s() - t0);
	printf("  %llu events, %llu client switches, %llu denied, %llu "
	       "terminations (%llu TTL, %llu of them checked against a viable "
	       "path), %llu runs attacked, %llu with no attack and a path "
	       "healthy throughout\n",
	       (unsigned long long)st.events, (unsigned long long)st.switches,
	       (unsigned long long)st.denials, (unsigned long long)st.terms,
	       (unsigned long long)st.ttl_terms,
	       (unsigned long long)st.ttl_checked,
	       (unsigned long long)st.attacked_runs,
	       (unsigned long long)st.quiet_runs);
	for (int r = 1; r < JV_FZ__COUNT; r++)
		if (by_rule[r])
			printf("  %s: %llu\n", jv_fuzz_rule_name((enum jv_fuzz_rule)r),
			       (unsigned long long)by_rule[r]);
	free(sc);
	return failed ? 1 : 0;
}

static int set_plant(const char *arg, void *dst)
{
	if (strcmp(arg, "limiter") != 0) {
		fprintf(stderr, "jvpn sim: --plant: only 'limiter' is known\n");
		return 2;
	}
	*(bool *)dst = true;
	return 0;
}

int jv_cmd_sim(int argc, char **argv)
{
	const char *out = NULL, *shrink_to = NULL;
	bool timeline = false, invariants = false;
	uint64_t nfuzz = 0, from = 1, max_fail = 20;
	struct jv_fuzz_opts fo = { .verify = verify_lines };
	int first, failed = 0, rc;
	const struct jv_opt opts[] = {
		{ "out", 0, "FILE", &out, NULL },
		{ "timeline", 0, NULL, &timeline, NULL },
		{ "invariants", 0, NULL, &invariants, NULL },
		{ "fuzz", 0, "N", &nfuzz, parse_u64 },
		{ "from", 0, "S", &from, parse_u64 },
		{ "shrink-to", 0, "DIR", &shrink_to, NULL },
		{ "max-failures", 0, "K", &max_fail, parse_u64 },
		{ "plant", 0, "BUG", &fo.plant_limiter, set_plant },
		{ NULL, 0, NULL, NULL, NULL },
	};

	if ((rc = jv_args_parse(&spec, opts, argc, argv, &first)) != JV_ARGS_RUN)
		return rc;
	if (nfuzz) {
		if (argc != first)
			return jv_args_error(&spec, "--fuzz takes no scenario");
		return fuzz(nfuzz, from, shrink_to, max_fail, &fo);
	}
	if (argc == first)
		return jv_args_error(&spec, "no scenario given");
	if (out && argc - first != 1)
		return jv_args_error(&spec, "--out takes one scenario");
	for (int i = first; i < argc; i++) {
		struct jv_scenario *sc = calloc(1, sizeof(*sc));
		struct jv_sim_result res;
		struct jv_error err;
		char *buf = NULL;
		size_t len = 0;

		if (!sc)
			return 1;
		if (jv_read_file(argv[i], JV_FILE_MAX, &buf, &len, &err) != 0 ||
		    jv_scenario_parse(sc, buf, len, argv[i], &err) != 0) {
			jv_print_error(&err);
			free(buf);
			free(sc);
			return 2;
		}
		free(buf);
		if (jv_sim_run(sc, &res) != 0) {
			printf("FAIL %s: %s\n", sc->name, res.why);
			failed++;
		} else if (res.pass) {
			struct jv_fuzz_verdict v = { .rule = JV_FZ_OK };

			if (invariants)
				jv_fuzz_run(sc, &fo, &v);
			if (v.rule == JV_FZ_OK) {
				printf("PASS %s\n", sc->name);
			} else {
				printf("FAIL %s: invariant %s: %s\n", sc->name,
				       jv_fuzz_rule_name(v.rule), v.why);
				failed++;
			}
		} else {
			printf("FAIL %s: %s\n", sc->name, res.why);
			failed++;
		}
		if (timeline)
			print_timeline(&res);
		if (out && write_events(out, &res) != 0)
			failed++;
		jv_sim_result_free(&res);
		free(sc);
	}
	return failed ? 1 : 0;
}
