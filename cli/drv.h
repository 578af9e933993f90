/* Inside `jvpn server` and `jvpn client`: cli/daemon.c runs what both
 * share (the epoll loop, signals, the control socket, the TUN device, the
 * audit sink, the timer) and one driver brings the transports: the
 * gateway's listeners (cli/drv_server.c) or the client's candidates
 * (cli/drv_client.c). */
#ifndef JV_CLI_DRV_H
#define JV_CLI_DRV_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/config.h"
#include "cli/ctl_reply.h"
#include "cli/routes.h"
#include "engine/endpoint.h"
#include "io/ctl.h"
#include "io/http.h"
#include "io/loop.h"
#include "io/sink.h"
#include "core/gso.h"
#include "io/tcp.h"
#include "io/tun.h"
#include "io/udp.h"

struct jv_drv;

struct daemon {
	struct jv_config cfg;
	const struct jv_drv *drv;
	void *priv;                 /* the driver's own state */
	struct jv_loop *loop;
	struct jv_endpoint *ep;
	struct jv_sink sink;
	struct jv_ctl *ctl;
	struct jv_http *http;       /* metrics_listen, NULL when not set */
	int tun_fd, sig_fd;
	char tun_name[IFNAMSIZ];
	uint64_t started;
	bool done;
	bool hook_up_ran;           /* on_up ran: on_down is due */
	struct jv_rtset routes;     /* installed by this run: removed at exit */
	uint64_t drops[JV_DROP__COUNT];  /* jvpn_dropped_total{where} */
	unsigned tun_offload;       /* JV_TUN_* (io/tun.h) */
	uint64_t tun_gso;           /* super packets read and split */
	uint64_t udp_gso, udp_gro;  /* UDP_SEGMENT sends, GRO reads */
	/* the UDP sockets' receive buffers, shared (io/udp.h: GRO) */
	struct jv_udp_pool *udp_pool;
	uint8_t pkt[JV_INNER_MAX + 64]; /* a segment of one */
	/* a TUN read: the virtio_net_hdr, then up to 64 KiB */
	uint8_t tunbuf[JV_TUN_VNET_HDR_LEN + JV_GSO_MAX];
};

struct jv_drv {
	const char *name;           /* the subcommand: "server", "client" */
	/* Opens the sockets for d->cfg and registers them with the loop; err
	 * names the configuration key at fault. */
	int (*open)(struct daemon *d, struct jv_error *err);
	/* The engine exists (d->ep): tells it what the sockets know. */
	void (*start)(struct daemon *d, uint64_t now);
	/* The engine's send: one datagram on path. */
	void (*send)(struct daemon *d, const struct jv_path *path,
		     const uint8_t *buf, size_t len);
	/* After every callback: flushes queued datagrams; returns the
	 * driver's next deadline (UINT64_MAX: none). */
	uint64_t (*settle)(struct daemon *d);
	/* The timer fired: the driver's own deadlines. */
	void (*tick)(struct daemon *d, uint64_t now);
	/* Shutting down: writes out what the peers must still be told. */
	void (*flush)(struct daemon *d);
	/* The outer address and port at the far end of path, as text (the
	 * engine's `remote`); returns the length, 0 when unknown. */
	size_t (*format_path)(struct daemon *d, const struct jv_path *path,
			      char *buf, size_t cap);
	/* Optional: the engine's path_bound (engine/endpoint.h). */
	void (*path_bound)(struct daemon *d, const struct jv_path *path,
			   bool bound);
	/* Closes what open() opened, also after it failed halfway. */
	void (*close)(struct daemon *d);
};

extern const struct jv_drv jv_drv_server, jv_drv_client;

/* The end of every callback: the driver flushes, the timer follows the
 * earliest deadline. */
void jv_daemon_settle(struct daemon *d);
/* Leaves the loop; jv_daemon_main() cleans up and exits. */
void jv_daemon_stop(struct daemon *d);
/* Asks the loop for EPOLLOUT while c has bytes to write. */
void jv_daemon_tcp_interest(struct daemon *d, struct jv_tcp_conn *c);
/* Closes and frees u (NULL: nothing). */
void jv_daemon_udp_free(struct jv_udp *u);
/* Reads a batch of datagrams from u into rx, then settles. */
void jv_daemon_udp_read(struct daemon *d, struct jv_udp *u, jv_udp_rx_cb rx,
			void *ctx);

#endif
