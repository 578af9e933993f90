/* Link state from rtnetlink: a local interface going down is known at
 * once (RTM_NEWLINK without IFF_RUNNING/IFF_UP, RTM_DELLINK), not after a
 * heartbeat timeout. */
#ifndef JV_IO_LINK_H
#define JV_IO_LINK_H

#include <stdbool.h>

#include "core/err.h"

struct jv_linkmon;

/* Opens a NETLINK_ROUTE socket subscribed to RTMGRP_LINK (non-blocking). */
int jv_linkmon_open(struct jv_linkmon **out, struct jv_error *err);
void jv_linkmon_close(struct jv_linkmon *m);
int jv_linkmon_fd(const struct jv_linkmon *m);

/* What one link message says about a device. */
enum jv_link_status {
	JV_LINK_GONE,           /* RTM_DELLINK, or no such device */
	JV_LINK_DOWN,           /* there, but not IFF_UP and IFF_RUNNING */
	JV_LINK_UP,             /* IFF_UP and IFF_RUNNING */
};

/* ifindex: the device's, also on delete; a name, once deleted and
 * re-created, comes back with another one. */
typedef void (*jv_link_cb)(void *ctx, const char *ifname, int ifindex,
			   enum jv_link_status state);

/* Reads every pending message and calls cb once per link message.
 * Returns 0, JV_ERR_FULL if the kernel dropped messages (the caller asks
 * for the current state: jv_link_query), or a negative error if the
 * socket failed. Bounded: reads what is queued, never blocks. */
int jv_linkmon_read(struct jv_linkmon *m, jv_link_cb cb, void *ctx);

/* Current state of one interface: 1 up and running, 0 not, -1 no such
 * interface. */
int jv_link_state(const char *ifname);
/* The same, as a report: JV_LINK_GONE with *ifindex 0 when there is no
 * such interface. */
enum jv_link_status jv_link_query(const char *ifname, int *ifindex);

/*
 * A socket pinned to a device by name (SO_BINDTODEVICE) follows the name,
 * not the device: the kernel keeps the ifindex it bound to, so once the
 * device is deleted (a USB modem unplugged, a driver reloaded) the socket
 * is useless, even after a device of that name comes back with a new
 * ifindex. A pin tracks which device its socket is bound to and what the
 * engine was told; jv_link_pin_step turns each report on the name into
 * the steps that follow it, in this order: close the socket, open a new
 * one bound to the name, then tell the engine up or link_down. No socket
 * while the device is missing; a new one once it is there and up.
 */
struct jv_link_pin {
	int ifindex;            /* the device the socket is bound to; 0: none */
	bool up;                /* the engine was told the transport is up */
};

enum {
	JV_PIN_CLOSE = 1u,      /* the socket's device is gone or replaced */
	JV_PIN_OPEN = 2u,       /* bind a new socket (to pin->ifindex now) */
	JV_PIN_UP = 4u,         /* transport_up */
	JV_PIN_DOWN = 8u,       /* transport_down(JV_R_LINK_DOWN) */
};

/* One report on the pinned name (ifindex 0: no such device). Updates pin
 * as if the steps returned succeed; a stale report (the deletion of a
 * device the socket is not bound to) changes nothing. */
unsigned jv_link_pin_step(struct jv_link_pin *pin, int ifindex,
			  enum jv_link_status state);
/* The JV_PIN_OPEN of the last step failed: no socket, and what to tell
 * the engine instead of that step's JV_PIN_UP (JV_PIN_DOWN or 0). was_up:
 * pin->up before that step. */
unsigned jv_link_pin_open_failed(struct jv_link_pin *pin, bool was_up);
/* The ifindex a socket is bound to (SO_BINDTOIFINDEX, Linux 5.0): 0 when
 * none or unknown. The name resolves when the socket is bound, so this,
 * not the report that asked for the socket, says which device it is. */
int jv_link_bound_ifindex(int fd);

#endif
