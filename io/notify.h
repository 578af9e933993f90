/* The service manager's readiness protocol (sd_notify(3)) without
 * libsystemd: one datagram to the Unix socket named by $NOTIFY_SOCKET, a
 * path ("/run/systemd/notify") or an abstract name ("@..."). */
#ifndef JV_IO_NOTIFY_H
#define JV_IO_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1", newline-separated assignments).
 * 1 sent, 0 no $NOTIFY_SOCKET (not run by systemd: nothing to do), or
 * -errno (-EAFNOSUPPORT for an address that is neither a path nor
 * abstract). */
int jv_sd_notify(const char *state);

#endif
