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

typedef void (*jv_link_cb)(void *ctx, const char *ifname, bool up);

/* Reads every pending message and calls cb once per link message (name
 * and whether it is usable: IFF_UP and IFF_RUNNING, false on delete).
 * Returns 0, or a negative error if the socket failed. Bounded: reads
 * what is queued, never blocks. */
int jv_linkmon_read(struct jv_linkmon *m, jv_link_cb cb, void *ctx);

/* Current state of one interface: 1 up and running, 0 not, -1 no such
 * interface. */
int jv_link_state(const char *ifname);

#endif
