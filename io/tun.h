/* The TUN device: IFF_TUN | IFF_NO_PI, non-blocking, configured over
 * rtnetlink (IPv4 and IPv6 addresses, MTU, link up). Closing the fd
 * removes it. */
#ifndef JV_IO_TUN_H
#define JV_IO_TUN_H

#include <net/if.h>
#include <stdint.h>

#include "core/allowedips.h"
#include "core/err.h"

/* Creates (or attaches to) TUN device name; *fd gets a non-blocking,
 * close-on-exec descriptor, out_name the kernel's name for it. */
int jv_tun_open(const char *name, int *fd, char out_name[IFNAMSIZ],
		struct jv_error *err);

/* Adds each of addrs (address and prefix length, IPv4 or IPv6; IPv6
 * switched on for the device first and added without duplicate address
 * detection), sets the MTU and brings the link up. Idempotent: an
 * address already present is fine. */
int jv_tun_configure(const char *name, const struct jv_prefix *addrs,
		     uint32_t naddrs, uint32_t mtu, struct jv_error *err);

#endif
