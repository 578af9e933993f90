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

/* In the child: what the daemon blocked or ignored is not the hook's.
 * stdin is in_fd (the read end of a pipe), or /dev/null when -1. */
static void child(char *const *argv, char *const *env, int in_fd)
{
	sigset_t none;
	int fd;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	for (; env && *env; env++)
		putenv(*env);
	fd = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	execv(argv[0], argv);
	fprintf(stderr, "jvpn: %s: cannot run: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* The input, whole, into the pipe: it fits (the caller's bound), so the
 * write cannot block on a child that does not read. A child that exits
 * without reading is EPIPE here, not a signal that ends the caller. */
static void feed(int fd, const char *input)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	size_t len = strlen(input), off = 0;

	sigaction(SIGPIPE, &ign, &old);

	while (off < len) {
		ssize_t w = write(fd, input + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;              /* the child is gone: its status says */
		off += (size_t)w;
	}
	close(fd);
	sigaction(SIGPIPE, &old, NULL);
}

int jv_hook_run(const char *path, char *const *env, uint64_t timeout_ms,
		char *msg, size_t cap)
{
	char *const argv[] = { (char *)path, NULL };

	return jv_run(argv, env, NULL, timeout_ms, msg, cap);
}

int jv_run(char *const *argv, char *const *env, const char *input,
	   uint64_t timeout_ms, char *msg, size_t cap)
{
	uint64_t until = mono_ms() + timeout_ms;
	int status, in[2] = { -1, -1 };
	pid_t pid, r;

	if (input && pipe2(in, O_CLOEXEC) != 0) {
		snprintf(msg, cap, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(msg, cap, "cannot fork: %s", strerror(errno));
		if (input) {
			close(in[0]);
			close(in[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (input)
			close(in[1]);
		child(argv, env, in[0]);
	}
	setpgid(pid, pid);              /* either side may get there first */
	if (input) {
		close(in[0]);
		feed(in[1], input);
	}
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
