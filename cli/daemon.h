/* The daemons behind `jvpn server` and `jvpn client`. */
#ifndef JV_CLI_DAEMON_H
#define JV_CLI_DAEMON_H

#include "core/audit.h"

/* Runs until shutdown; returns the process exit code. */
int jv_daemon_main(int argc, char **argv, enum jv_role role);

#endif
