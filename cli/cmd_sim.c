/* jvpn sim: runs scenarios, prints PASS/FAIL, writes events, and prints a
 * readable timeline for people. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/timeline.h"
#include "cli/util.h"
#include "sim/sim.h"

static void help(FILE *f)
{
	fprintf(f,
		"Runs each scenario: a real client and server engine over simulated\n"
		"paths on a virtual clock. Prints 'PASS name' or 'FAIL name: why' per\n"
		"scenario; exits 1 if any failed, 2 on a bad scenario file.\n"
		"\n"
		"  --out FILE    write the merged JSONL events (one scenario only)\n"
		"  --timeline    print each scenario's state changes readably\n");
}

static const struct jv_cmd_spec spec = {
	"sim", "usage: jvpn sim [--out FILE] [--timeline] SCENARIO.yaml...\n",
	help, 1, -1,
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

int jv_cmd_sim(int argc, char **argv)
{
	const char *out = NULL;
	bool timeline = false;
	int first, failed = 0, rc;
	const struct jv_opt opts[] = {
		{ "out", 0, "FILE", &out, NULL },
		{ "timeline", 0, NULL, &timeline, NULL },
		{ NULL, 0, NULL, NULL, NULL },
	};

	if ((rc = jv_args_parse(&spec, opts, argc, argv, &first)) != JV_ARGS_RUN)
		return rc;
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
			printf("PASS %s\n", sc->name);
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
