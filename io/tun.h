/* The TUN device: IFF_TUN | IFF_NO_PI, non-blocking, configured over
 * rtnetlink (IPv4 address, MTU, link up). Closing the fd removes it. */
#ifndef JV_IO_TUN_H
#define JV_IO_TUN_H

#include <net/if.h>
#include <stdint.h>

#include "core/err.h"

/* Creates (or attaches to) TUN device name; *fd gets a non-blocking,
 * close-on-exec descriptor, out_name the kernel's name for it. */
int jv_tun_open(const char *name, int *fd, char out_name[IFNAMSIZ],
		struct jv_error *err);

/* Sets the MTU, adds addr/prefix (IPv4, host order) and brings the link
 * up. Idempotent: an address already present is fine. */
int jv_tun_configure(const char *name, uint32_t addr, uint8_t prefix,
		     uint32_t mtu, struct jv_error *err);

#endif
