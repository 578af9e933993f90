/* jvpn server / jvpn client: the engine driven by real I/O. One thread, one
 * epoll loop: the TUN device, the control socket, signals and the timer
 * here; the transports in a driver (cli/drv.h): the gateway's listeners or
 * the client's candidates. After every callback the driver flushes its
 * send queues and the timer follows the earliest deadline. */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/ctl_reply.h"
#include "cli/daemon.h"
#include "cli/drv.h"
#include "cli/util.h"
#include "io/notify.h"
#include "io/tun.h"

#define TUN_BATCH 64
#define UDP_ROUNDS 4            /* recvmmsg batches per readable socket */

/* The driver each role runs. */
static const struct jv_drv *const drivers[] = {
	[JV_ROLE_CLIENT] = &jv_drv_client,
	[JV_ROLE_SERVER] = &jv_drv_server,
};

/* ---- shared by the drivers ---- */

void jv_daemon_settle(struct daemon *d)
{
	uint64_t at = jv_endpoint_deadline(d->ep), drv = d->drv->settle(d);
	/* the metrics responder's timeouts (no clock read without it) */
	uint64_t http = d->http ? jv_http_sweep(d->http, jv_mono_ms())
				: UINT64_MAX;

	if (drv < at)
		at = drv;
	jv_loop_set_timer(d->loop, http < at ? http : at);
}

void jv_daemon_stop(struct daemon *d)
{
	d->done = true;
	jv_loop_stop(d->loop);
}

void jv_daemon_tcp_interest(struct daemon *d, struct jv_tcp_conn *c)
{
	if (c->fd >= 0)
		jv_loop_mod(d->loop, c->fd, EPOLLIN | (jv_tcp_wants_write(c)
						       ? EPOLLOUT : 0));
}

void jv_daemon_udp_free(struct jv_udp *u)
{
	if (u)
		jv_udp_close(u);
	free(u);
}

void jv_daemon_udp_read(struct daemon *d, struct jv_udp *u, jv_udp_rx_cb rx,
			void *ctx)
{
	jv_udp_read(u, UDP_ROUNDS, rx, ctx);
	jv_daemon_settle(d);
}

/* ---- engine callbacks ---- */

static void op_send(void *ctx, const struct jv_path *path, const uint8_t *buf,
		    size_t len)
{
	struct daemon *d = ctx;

	d->drv->send(d, path, buf, len);
}

static void op_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct daemon *d = ctx;

	/* the TUN queue full: the inner packet is lost, as on any link */
	if (write(d->tun_fd, pkt, len) < 0 && errno != EAGAIN)
		fprintf(stderr, "jvpn: %s: write: %s\n", d->tun_name,
			strerror(errno));
}

static void op_event(void *ctx, const char *line, size_t len)
{
	jv_sink_write(&((struct daemon *)ctx)->sink, line, len);
}

static void op_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

/* Key memory stays out of swap and core dumps where RLIMIT_MEMLOCK
 * allows; past the limit it is simply not locked. */
static void op_lock(void *ctx, void *ptr, size_t len, bool on)
{
	(void)ctx;
	if (on)
		(void)sodium_mlock(ptr, len);
	else
		(void)sodium_munlock(ptr, len);
}

static size_t op_format_path(void *ctx, const struct jv_path *path,
			     char *buf, size_t cap)
{
	struct daemon *d = ctx;

	return d->drv->format_path ? d->drv->format_path(d, path, buf, cap)
				   : 0;
}

/* ---- TUN, timer, signals ---- */

static void on_tun(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;

	(void)events;
	for (int i = 0; i < TUN_BATCH; i++) {
		ssize_t n = read(d->tun_fd, d->pkt, sizeof(d->pkt));

		if (n <= 0)
			break;
		jv_endpoint_send_inner(d->ep, d->pkt, (size_t)n, jv_mono_ms());
	}
	jv_daemon_settle(d);
}

static void on_timer(void *ctx)
{
	struct daemon *d = ctx;
	uint64_t now = jv_mono_ms();

	jv_endpoint_tick(d->ep, now);
	d->drv->tick(d, now);
	jv_daemon_settle(d);
}

static void shutdown_now(struct daemon *d, const char *why)
{
	fprintf(stderr, "jvpn: %s: %s, terminating sessions\n",
		d->cfg.node_id, why);
	(void)jv_sd_notify("STOPPING=1");
	/* the peer is told; events say why */
	jv_endpoint_terminate(d->ep, NULL, JV_R_OPERATOR_TERMINATED,
			      jv_mono_ms());
	jv_daemon_settle(d);
	d->drv->flush(d);
	jv_daemon_stop(d);
}

static void on_signal(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;
	struct signalfd_siginfo si;
	struct jv_error err;

	(void)events;
	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (jv_sink_reopen(&d->sink, &err) != 0)
				jv_print_error(&err);
		} else {
			shutdown_now(d, si.ssi_signo == SIGINT ? "SIGINT"
							       : "SIGTERM");
			return;
		}
	}
}

/* ---- control socket ---- */

static json_t *ctl_handler(void *ctx, const char *cmd, json_t *args)
{
	struct daemon *d = ctx;
	struct jv_ctl_node n = { d->ep, d->cfg.node_id, d->cfg.role, d->started };
	json_t *r = jv_ctl_dispatch(&n, cmd, args, jv_mono_ms());

	jv_daemon_settle(d);
	return r;
}

/* ---- metrics over HTTP ---- */

static char *metrics_body(void *ctx)
{
	struct daemon *d = ctx;
	struct jv_ctl_node n = { d->ep, d->cfg.node_id, d->cfg.role, d->started };

	return jv_ctl_metrics_text(&n, jv_mono_ms());
}

static int setup_metrics(struct daemon *d, struct jv_error *err)
{
	const struct jv_sockaddr *a = &d->cfg.metrics_listen;
	int rc;

	if (!a->len)
		return 0;
	if ((rc = jv_http_open(&d->http, d->loop, (const struct sockaddr *)&a->ss,
			       a->len, metrics_body, d, err)) != 0)
		jv_config_blame(&d->cfg, d->cfg.line_metrics_listen, err,
				"metrics_listen");
	return rc;
}

/* ---- setup and teardown ---- */

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_fd < 0)
		return -errno;
	return jv_loop_add(d->loop, d->sig_fd, EPOLLIN, on_signal, d);
}

static int setup_io(struct daemon *d, struct jv_error *err)
{
	const struct jv_tun_cfg *tc = &d->cfg.tun;
	int rc;

	/* the I/O layer knows no config file: errors name the key here */
	if ((rc = jv_sink_open(&d->sink, d->cfg.audit_path, err)) != 0) {
		jv_config_blame(&d->cfg, d->cfg.line_audit_path, err,
				"audit.path");
		return rc;
	}
	if ((rc = jv_tun_open(tc->name, &d->tun_fd, d->tun_name, err)) != 0) {
		jv_config_blame(&d->cfg, tc->line_name, err, "tun.name");
		return rc;
	}
	if ((rc = jv_tun_configure(d->tun_name, tc->addr, tc->prefix, tc->mtu,
				   err)) != 0) {
		jv_config_blame(&d->cfg, tc->line, err, "tun");
		return rc;
	}
	if (jv_loop_add(d->loop, d->tun_fd, EPOLLIN, on_tun, d) != 0 ||
	    setup_signals(d) != 0)
		return jv_error_set(err, JV_ERR_INVAL, d->cfg.file, 0,
				    "cannot set up the event loop");
	if ((rc = d->drv->open(d, err)) != 0)
		return rc;
	if ((rc = jv_ctl_open(&d->ctl, d->loop, d->cfg.control_socket,
			      ctl_handler, d, err)) != 0) {
		jv_config_blame(&d->cfg, d->cfg.line_control_socket, err,
				"control_socket");
		return rc;
	}
	return setup_metrics(d, err);
}

static int setup_engine(struct daemon *d)
{
	struct jv_endpoint_cfg ec;
	uint64_t now = jv_mono_ms();
	int rc;

	jv_config_endpoint(&d->cfg, &ec);
	ec.ops = (struct jv_endpoint_ops){ op_send, op_deliver, op_event,
					   op_random, op_lock,
					   op_format_path };
	ec.ctx = d;
	/* events carry Unix time; the engine runs on the monotonic clock */
	ec.ts_offset_ms = (int64_t)(jv_wall_ms() - now);
	rc = jv_endpoint_new(&ec, now, &d->ep);
	sodium_memzero(&ec.private_key, sizeof(ec.private_key));
	if (rc == 0 && d->drv->start)
		d->drv->start(d, now);
	return rc;
}

static void teardown(struct daemon *d)
{
	if (d->ctl)
		jv_ctl_close(d->ctl);
	jv_http_close(d->http);
	if (d->ep)
		jv_endpoint_free(d->ep);   /* wipes the session keys */
	d->drv->close(d);
	if (d->tun_fd >= 0)
		close(d->tun_fd);            /* the device goes with it */
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	jv_sink_close(&d->sink);
	jv_loop_free(d->loop);
	jv_config_wipe(&d->cfg);
}

static void help(FILE *f, const char *role)
{
	fprintf(f,
		"Runs a jvpn %s in the foreground with the configuration in FILE\n"
		"(docs: README.md, examples/%s.yaml). Audit events go to the\n"
		"configured audit path; SIGHUP reopens it; SIGINT or SIGTERM\n"
		"terminates every session (the peer is told) and exits.\n"
		"\n"
		"  -c, --config FILE   the daemon's configuration (YAML)\n"
		"\n"
		"Exit: 0 after a clean shutdown, 1 on a runtime failure, 2 on a bad\n"
		"configuration or bad usage.\n",
		role, role);
}

static void client_help(FILE *f)
{
	help(f, "client");
}

static void server_help(FILE *f)
{
	help(f, "server");
}

static const struct jv_cmd_spec specs[] = {
	[JV_ROLE_CLIENT] = { "client", "usage: jvpn client -c FILE\n",
			     client_help, 0, 0 },
	[JV_ROLE_SERVER] = { "server", "usage: jvpn server -c FILE\n",
			     server_help, 0, 0 },
};

int jv_daemon_main(int argc, char **argv, enum jv_role role)
{
	const struct jv_drv *drv = drivers[role];
	const char *name = drv->name;
	struct daemon *d;
	struct jv_error err = { .file = "-" };   /* printable if a path forgets it */
	const char *file = NULL;
	int first, rc;
	const struct jv_opt opts[] = {
		{ "config", 'c', "FILE", &file, NULL },
		{ NULL, 0, NULL, NULL, NULL },
	};

	if ((rc = jv_args_parse(&specs[role], opts, argc, argv, &first)) !=
	    JV_ARGS_RUN)
		return rc;
	if (!file)
		return jv_args_error(&specs[role], "-c FILE is needed");
	d = calloc(1, sizeof(*d));
	if (!d || sodium_init() < 0)
		return 1;
	d->drv = drv;
	d->tun_fd = d->sig_fd = -1;
	if (jv_config_load(&d->cfg, file, &err) != 0) {
		jv_print_error(&err);
		free(d);
		return 2;
	}
	if (d->cfg.role != role) {
		fprintf(stderr, "jvpn: %s: role is %s; use `jvpn %s -c %s`\n",
			file, drivers[d->cfg.role]->name,
			drivers[d->cfg.role]->name, file);
		jv_config_wipe(&d->cfg);
		free(d);
		return 2;
	}
	d->started = jv_mono_ms();
	rc = jv_loop_new(&d->loop);
	if (rc == 0)
		jv_loop_on_timer(d->loop, on_timer, d);
	if (rc == 0 && (rc = setup_io(d, &err)) != 0)
		jv_print_error(&err);
	if (rc == 0 && (rc = setup_engine(d)) != 0)
		fprintf(stderr, "jvpn: cannot start the engine (%d)\n", rc);
	if (rc == 0) {
		fprintf(stderr, "jvpn: %s %s running on %s\n", name,
			d->cfg.node_id, d->tun_name);
		/* Type=notify units (dist/systemd): up, sockets bound */
		if (jv_sd_notify("READY=1") < 0)
			fprintf(stderr, "jvpn: cannot notify $NOTIFY_SOCKET\n");
		jv_daemon_settle(d);
		if (!d->done && jv_loop_run(d->loop) != 0)
			rc = 1;
	}
	teardown(d);
	free(d);
	return rc == 0 ? 0 : 1;
}
