/* The daemon's hooks: fork, exec, bounded wait (hook.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/hook.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* In the child: what the daemon blocked or ignored is not the hook's. */
static void child(const char *path, char *const *env)
{
	char *const argv[] = { (char *)path, NULL };
	sigset_t none;
	int fd;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	for (; env && *env; env++)
		putenv(*env);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	execv(path, argv);
	fprintf(stderr, "jvpn: %s: cannot run: %s\n", path, strerror(errno));
	_exit(127);
}

int jv_hook_run(const char *path, char *const *env, uint64_t timeout_ms,
		char *msg, size_t cap)
{
	uint64_t until = mono_ms() + timeout_ms;
	int status;
	pid_t pid, r;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(msg, cap, "cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		child(path, env);
	setpgid(pid, pid);              /* either side may get there first */
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			snprintf(msg, cap, "waitpid: %s", strerror(errno));
			return -1;
		}
		if (mono_ms() >= until) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			snprintf(msg, cap, "killed after %llu ms",
				 (unsigned long long)timeout_ms);
			return -1;
		}
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(msg, cap, "exited %d", WEXITSTATUS(status));
	else
		snprintf(msg, cap, "killed by signal %d", WTERMSIG(status));
	return -1;
}
