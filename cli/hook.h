/* The daemon's hooks (config on_up, on_down): an executable run at a
 * moment of the daemon's life, as wg-quick's PostUp/PreDown and OpenVPN's
 * up/down. No shell: the path is executed with no arguments, the
 * daemon's environment and a few JVPN_* variables. */
#ifndef JV_CLI_HOOK_H
#define JV_CLI_HOOK_H

#include <stddef.h>
#include <stdint.h>

/* How long a hook may run before it (and its process group) is killed. */
#define JV_HOOK_TIMEOUT_MS 10000

/*
 * Runs path (fork, exec, no shell) with env added to the environment
 * ("NAME=value" strings, NULL last; NULL: none), stdin from /dev/null,
 * and waits for it at most timeout_ms; past that its process group is
 * killed (SIGKILL). Returns 0 when it exited 0, else -1 with msg saying
 * what happened ("exited 3", "killed by signal 9", "killed after 10000
 * ms", "cannot run: ...").
 */
int jv_hook_run(const char *path, char *const *env, uint64_t timeout_ms,
		char *msg, size_t cap);

/*
 * The same for a program with arguments (argv[0] a path, NULL last): the
 * DNS helpers (cli/dns.c). input, when not NULL, is written to the
 * program's stdin (at most a pipe's capacity, 64 KiB), else stdin is
 * /dev/null.
 */
int jv_run(char *const *argv, char *const *env, const char *input,
	   uint64_t timeout_ms, char *msg, size_t cap);

#endif
