/* The TUN device: IFF_TUN | IFF_NO_PI, non-blocking, configured over
 * rtnetlink (IPv4 and IPv6 addresses, MTU, link up). Closing the fd
 * removes it. */
#ifndef JV_IO_TUN_H
#define JV_IO_TUN_H

#include <net/if.h>
#include <stdint.h>

#include "core/allowedips.h"
#include "core/err.h"

/* The device's transmit queue, in packets (the kernel's default: 500) */
#ifndef JV_TUN_TXQLEN
#define JV_TUN_TXQLEN 5000
/* What the kernel dropped on its way to this daemon: the device's
 * tx_dropped (its queue full), from sysfs. 0 or a negative errno. */
int jv_tun_tx_dropped(const char *name, uint64_t *out);

#endif

/* Creates (or attaches to) TUN device name; *fd gets a non-blocking,
 * close-on-exec descriptor, out_name the kernel's name for it. */
int jv_tun_open(const char *name, int *fd, char out_name[IFNAMSIZ],
		struct jv_error *err);

/* What jv_tun_open_offload got: reads and writes carry a virtio_net_hdr
 * (JV_TUN_VNET, core/gso.h), partial checksums (CSUM), TCP and UDP
 * segmentation (TSO, USO: a read of up to 64 KiB). */
#define JV_TUN_VNET 1u
#define JV_TUN_CSUM 2u
#define JV_TUN_TSO 4u
#define JV_TUN_USO 8u
#define JV_TUN_VNET_HDR_LEN 10

/* The same with IFF_VNET_HDR and the offloads the kernel accepts, falling
 * back to fewer (none: *offload 0, a plain TUN as jv_tun_open's). */
int jv_tun_open_offload(const char *name, int *fd, char out_name[IFNAMSIZ],
			unsigned *offload, struct jv_error *err);

/* Adds each of addrs (address and prefix length, IPv4 or IPv6; IPv6
 * switched on for the device first and added without duplicate address
 * detection), sets the MTU and brings the link up. Idempotent: an
 * address already present is fine. */
int jv_tun_configure(const char *name, const struct jv_prefix *addrs,
		     uint32_t naddrs, uint32_t mtu, struct jv_error *err);

/* What the kernel dropped on its way to this daemon: the device's
 * tx_dropped (its queue full), from sysfs. 0 or a negative errno. */
int jv_tun_tx_dropped(const char *name, uint64_t *out);

#endif
