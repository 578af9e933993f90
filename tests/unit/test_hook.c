/* The daemon's hooks (cli/hook.c): exit status, environment, timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/hook.h"
#include "tests/unit/unit.h"

static char dir[64];

static const char *script(const char *name, const char *body)
{
	static char path[128];
	FILE *f;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/jvhook.XXXXXX");
		assert_non_null(mkdtemp(dir));
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

JV_TEST(hook_exit_status)
{
	char msg[128] = "";

	assert_int_equal(jv_hook_run(script("ok", "exit 0"), NULL, 5000, msg,
				     sizeof(msg)), 0);
	assert_int_equal(jv_hook_run(script("bad", "exit 3"), NULL, 5000, msg,
				     sizeof(msg)), -1);
	assert_string_equal(msg, "exited 3");
	assert_int_equal(jv_hook_run("/nonexistent/hook", NULL, 5000, msg,
				     sizeof(msg)), -1);
	assert_string_equal(msg, "exited 127");
}

JV_TEST(hook_environment)
{
	char env1[] = "JVPN_ROLE=server", env2[] = "JVPN_TUN=jvpn9";
	char *const env[] = { env1, env2, NULL };
	char out[160], msg[128], body[256], line[64] = "";
	FILE *f;

	snprintf(out, sizeof(out), "%s/env.out", dir[0] ? dir : "/tmp");
	snprintf(body, sizeof(body), "echo \"$JVPN_ROLE $JVPN_TUN\" > %s",
		 out);
	assert_int_equal(jv_hook_run(script("env", body), env, 5000, msg,
				     sizeof(msg)), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "server jvpn9\n");
	/* the caller's environment is its own */
	assert_null(getenv("JVPN_ROLE"));
	unlink(out);
}

/* jv_run: arguments, and the input on stdin (cli/dns.c feeds
 * resolvconf this way); a program that does not read it is no harm. */
JV_TEST(run_argv_and_input)
{
	char out[160], msg[128], body[256], text[128] = "";
	char *argv[] = { NULL, (char *)"-a", (char *)"jvc0", NULL };
	FILE *f;
	size_t n;

	snprintf(out, sizeof(out), "%s/run.out", dir[0] ? dir : "/tmp");
	snprintf(body, sizeof(body), "{ echo \"$*\"; cat; } > %s", out);
	argv[0] = (char *)script("run", body);
	assert_int_equal(jv_run(argv, NULL, "nameserver 10.77.0.1\n", 5000,
				msg, sizeof(msg)), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	assert_string_equal(text, "-a jvc0\nnameserver 10.77.0.1\n");
	/* no input: stdin is /dev/null, read as empty */
	assert_int_equal(jv_run(argv, NULL, NULL, 5000, msg, sizeof(msg)), 0);
	f = fopen(out, "r");
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	assert_string_equal(text, "-a jvc0\n");
	argv[0] = (char *)script("run", "exit 0");
	assert_int_equal(jv_run(argv, NULL, "not read\n", 5000, msg,
				sizeof(msg)), 0);
	unlink(out);
	unlink(argv[0]);
}

JV_TEST(hook_killed_after_timeout)
{
	char msg[128];

	assert_int_equal(jv_hook_run(script("slow", "sleep 30 & sleep 30"),
				     NULL, 200, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "killed after 200 ms");
	unlink(script("ok", "exit 0"));
	unlink(script("bad", "exit 0"));
	unlink(script("env", "exit 0"));
	unlink(script("slow", "exit 0"));
	rmdir(dir);
}
