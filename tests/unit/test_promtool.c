/* `promtool check metrics` (from Debian's prometheus package, optional:
 * skipped when it is not installed) on what a gateway and a client with a
 * session between them expose: the ctl `metrics` text, which metrics_listen
 * serves too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/ctl_reply.h"

#include "tests/unit/world.h"
#include "tests/unit/unit.h"

static const char *no_promtool(void)
{
	return system("command -v promtool >/dev/null 2>&1") == 0
		       ? NULL
		       : "promtool not installed (apt-get install prometheus)";
}

/* Writes text to a file and runs promtool on it: its exit status, and
 * what it said in out. */
static int check(const char *text, char *out, size_t cap)
{
	char path[] = "/tmp/jvpn-metrics.XXXXXX", cmd[128];
	int fd = mkstemp(path), status;
	size_t n = 0;
	FILE *p;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n + 1 < cap && fgets(out + n, (int)(cap - n), p))
		n += strlen(out + n);
	out[n] = '\0';
	status = pclose(p);
	unlink(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

JV_TEST(test_promtool_both_ends)
{
	struct world *w = attached_world(NULL);
	struct jv_ctl_node nodes[2] = {
		{ w->s.ep, "gw-1", JV_ROLE_SERVER, 0 },
		{ w->c.ep, "laptop", JV_ROLE_CLIENT, 0 } };
	char out[4096];

	data_both_ways(w, 3);
	run_until(w, 5000);             /* probes: RTT samples */
	jv_endpoint_transport_down(w->c.ep, 0, JV_R_LINK_DOWN, w->now);
	pump(w);
	pump(w);
	for (int k = 0; k < 2; k++) {
		char *text = jv_ctl_metrics_text(&nodes[k], w->now);
		int rc = check(text, out, sizeof(out));

		if (rc != 0 || out[0])
			fail_msg("%s: promtool exit %d:\n%s\n--- metrics:\n%s",
				 k ? "client" : "server", rc, out, text);
		/* a rejected name is caught: the check really checks */
		if (k == 0) {
			const char *bad = "# HELP jvpn_x_ms x\n# TYPE jvpn_x_ms gauge\n"
					  "jvpn_x_ms 1\n";

			assert_true(check(bad, out, sizeof(out)) != 0 ||
				    out[0] != '\0');
		}
		free(text);
	}
	free_world(w);
}

JV_TEST_GROUP_SKIP(NULL, NULL, no_promtool);
