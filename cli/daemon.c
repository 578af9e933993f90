/* jvpn server / jvpn client: the engine driven by real I/O. One thread, one
 * epoll loop: the TUN device, the control socket, signals and the timer
 * here; the transports in a driver (cli/drv.h): the gateway's listeners or
 * the client's candidates. After every callback the driver flushes its
 * send queues and the timer follows the earliest deadline. */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/ctl_reply.h"
#include "cli/daemon.h"
#include "cli/drv.h"
#include "cli/hook.h"
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

	/* no offload asked of the kernel this way: a zeroed header */
	static const uint8_t none[JV_TUN_VNET_HDR_LEN];
	struct iovec iov[2] = { { (void *)none, sizeof(none) },
				{ (void *)pkt, len } };
	ssize_t n = d->tun_offload ? writev(d->tun_fd, iov, 2)
				   : write(d->tun_fd, pkt, len);

	/* the TUN queue full: the inner packet is lost, as on any link */
	if (n < 0) {
		d->drops[JV_DROP_TUN_WRITE]++;
		if (errno != EAGAIN)
			fprintf(stderr, "jvpn: %s: write: %s\n", d->tun_name,
				strerror(errno));
	}
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

static void op_path_bound(void *ctx, const struct jv_path *path, bool bound)
{
	struct daemon *d = ctx;

	if (d->drv->path_bound)
		d->drv->path_bound(d, path, bound);
}

/* ---- TUN, timer, signals ---- */

/* One inner packet read from the TUN (a segment of a super packet). */
static void tun_packet(void *ctx, const uint8_t *pkt, size_t len)
{
	struct daemon *d = ctx;
	int rc = jv_endpoint_send_inner(d->ep, pkt, len, jv_mono_ms());

	if (rc)
		d->drops[rc == JV_ERR_NOTFOUND ? JV_DROP_NO_SESSION
					       : JV_DROP_TUN_INVALID]++;
}

static void on_tun(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;
	struct jv_vnet_hdr h;

	(void)events;
	for (int i = 0; i < TUN_BATCH; i++) {
		ssize_t n = read(d->tun_fd, d->tunbuf, sizeof(d->tunbuf));

		if (n <= 0)
			break;
		if (!d->tun_offload) {
			tun_packet(d, d->tunbuf, (size_t)n);
			continue;
		}
		if (n < JV_TUN_VNET_HDR_LEN) {
			d->drops[JV_DROP_TUN_INVALID]++;
			continue;
		}
		jv_vnet_hdr_read(d->tunbuf, &h);
		d->tun_gso += h.gso_type != JV_VNET_GSO_NONE;
		if (jv_gso_split(&h, d->tunbuf + JV_TUN_VNET_HDR_LEN,
				 (size_t)n - JV_TUN_VNET_HDR_LEN, d->pkt,
				 sizeof(d->pkt), tun_packet, d) < 0)
			d->drops[JV_DROP_TUN_INVALID]++;
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

/* ---- hooks (config on_up, on_down) ---- */

/* Runs the hook at path (nothing when ""); a failure is said, not fatal. */
static void run_hook(struct daemon *d, const char *key, const char *path)
{
	char role[32], node[96], tun[48], sid[64] = "JVPN_SESSION_ID=";
	char *env[] = { role, node, tun, NULL, NULL };
	struct jv_session_info si;
	char msg[128];
	uint32_t cur = 0;

	if (!path[0])
		return;
	snprintf(role, sizeof(role), "JVPN_ROLE=%s",
		 d->cfg.role == JV_ROLE_CLIENT ? "client" : "server");
	snprintf(node, sizeof(node), "JVPN_NODE_ID=%s", d->cfg.node_id);
	snprintf(tun, sizeof(tun), "JVPN_TUN=%s", d->tun_name);
	/* the client's one session, where there is one */
	if (d->ep && d->cfg.role == JV_ROLE_CLIENT &&
	    jv_endpoint_session_next(d->ep, &cur, jv_mono_ms(), &si)) {
		jv_hex16(si.session_id, sid + strlen(sid));
		env[3] = sid;
	}
	if (jv_hook_run(path, env, JV_HOOK_TIMEOUT_MS, msg, sizeof(msg)) != 0)
		fprintf(stderr, "jvpn: %s: %s: %s (carrying on)\n", key, path,
			msg);
}

static void hook_down(struct daemon *d)
{
	if (!d->hook_up_ran)
		return;
	d->hook_up_ran = false;
	run_hook(d, "on_down", d->cfg.on_down);
}

/* ---- routes (CONTRACT section 8) ---- */

/* What the configuration wants on the TUN, made so. */
static int apply_routes(struct daemon *d, struct jv_error *err)
{
	struct jv_rtset want = { 0 };
	int ifindex = (int)if_nametoindex(d->tun_name);
	int rc;

	if (!ifindex)
		return jv_error_set(err, JV_ERR_NOTFOUND, "", 0,
				    "routes: no interface %s", d->tun_name);
	rc = jv_routes_plan(&d->cfg, ifindex, &want);
	if (rc)
		jv_error_set(err, rc, "", 0, "routes: out of memory");
	else
		rc = jv_routes_apply(&d->routes, &want, err);
	jv_rtset_free(&want);
	return rc;
}

/* The TUN is up: a client first removes what a killed run of it left
 * (its rules outlive the device), then both install their routes. */
static int setup_routes(struct daemon *d, struct jv_error *err)
{
	int rc;

	if (d->cfg.role == JV_ROLE_CLIENT) {
		rc = jv_routes_clean_leftovers(d->cfg.fwmark, err);
		if (rc > 0)
			fprintf(stderr, "jvpn: %s: removed %d rules and routes "
				"a previous run left (fwmark %u)\n",
				d->cfg.node_id, rc, d->cfg.fwmark);
		else if (rc < 0)
			fprintf(stderr, "jvpn: warning: %s (carrying on)\n",
				err->msg);
	}
	if ((rc = apply_routes(d, err)) != 0)
		jv_config_blame(&d->cfg, d->cfg.role == JV_ROLE_CLIENT
				? d->cfg.line_routes : 0, err,
				d->cfg.role == JV_ROLE_CLIENT ? "routes"
							      : "peers");
	return rc;
}

/* Exit: what this run installed goes (rules first). */
static void remove_routes(struct daemon *d)
{
	struct jv_rtset none = { 0 };
	struct jv_error err;

	if (d->routes.n + d->routes.nrules)
		(void)jv_routes_apply(&d->routes, &none, &err);
	jv_rtset_free(&d->routes);
}

/* ---- reload (ctl reload, SIGHUP) ---- */

static bool same_peer(const struct jv_peer_cfg *a, const struct jv_peer_cfg *b)
{
	return a->nallowed == b->nallowed &&
	       memcmp(a->public_key, b->public_key, 32) == 0 &&
	       memcmp(a->allowed, b->allowed,
		      a->nallowed * sizeof(a->allowed[0])) == 0;
}

/* "2 peers (1 added, 0 changed, 1 removed); policy 1.0" */
static void peers_diff(const struct jv_config *cur,
		       const struct jv_config *next, char *msg, size_t cap)
{
	uint32_t added = 0, changed = 0, kept = 0;

	for (uint32_t i = 0; i < next->npeers; i++) {
		uint32_t j = 0;

		while (j < cur->npeers &&
		       strcmp(cur->peers[j].name, next->peers[i].name))
			j++;
		if (j == cur->npeers)
			added++;
		else if (!same_peer(&cur->peers[j], &next->peers[i]))
			changed++, kept++;
		else
			kept++;
	}
	snprintf(msg, cap, "%u peers (%u added, %u changed, %u removed)",
		 next->npeers, added, changed, cur->npeers - kept);
}

static int reload(void *ctx, uint64_t now, char *msg, size_t cap)
{
	struct daemon *d = ctx;
	struct jv_config *next = calloc(1, sizeof(*next));
	struct jv_error err = { .file = "-" };
	size_t n = 0;
	int rc;

	if (!next)
		return snprintf(msg, cap, "out of memory"), JV_ERR_NOMEM;
	rc = jv_config_load(next, d->cfg.file, &err);
	if (rc != 0 &&
	    (strncmp(err.msg, "policy", 6) == 0 ||
	     (next->policy_file[0] && strcmp(err.file, next->policy_file) == 0))) {
		jv_error_format(&err, msg, cap);
		jv_endpoint_policy_rejected(d->ep, msg, now);
	}
	if (rc == 0)
		rc = jv_config_reloadable(&d->cfg, next, &err);
	if (rc == 0 && d->cfg.role == JV_ROLE_SERVER &&
	    (rc = jv_endpoint_set_peers(d->ep, next->peers, next->npeers,
					now)) != 0)
		jv_error_set(&err, rc, d->cfg.file, 0, "peers: cannot apply "
			     "them (%d)", rc);
	if (rc != 0) {
		jv_error_format(&err, msg, cap);
		fprintf(stderr, "jvpn: reload refused, running on as before: "
			"%s\n", msg);
		jv_config_wipe(next);
		free(next);
		return rc;
	}
	if (d->cfg.role == JV_ROLE_SERVER) {
		peers_diff(&d->cfg, next, msg, cap);
		n = strlen(msg);
		memcpy(d->cfg.peers, next->peers, sizeof(d->cfg.peers));
		d->cfg.npeers = next->npeers;
		/* the peers' prefixes on the TUN: added, removed; a route
		 * that fails is said, the peers are applied regardless */
		if (apply_routes(d, &err) != 0)
			n += (size_t)snprintf(msg + n, cap - n,
					      "; routes: %s", err.msg);
		n = n < cap ? n : cap - 1;
	}
	if (memcmp(&next->policy, &d->cfg.policy, sizeof(next->policy)) != 0) {
		jv_endpoint_set_policy(d->ep, &next->policy, now);
		snprintf(msg + n, cap - n, "%spolicy %s applied", n ? "; " : "",
			 next->policy.version);
	} else {
		snprintf(msg + n, cap - n, "%spolicy %s unchanged",
			 n ? "; " : "", next->policy.version);
	}
	d->cfg.policy = next->policy;
	memcpy(d->cfg.policy_file, next->policy_file, sizeof(d->cfg.policy_file));
	memcpy(d->cfg.on_up, next->on_up, sizeof(d->cfg.on_up));
	memcpy(d->cfg.on_down, next->on_down, sizeof(d->cfg.on_down));
	fprintf(stderr, "jvpn: %s: reloaded %s: %s\n", d->cfg.node_id,
		d->cfg.file, msg);
	jv_config_wipe(next);
	free(next);
	return 0;
}

static void shutdown_now(struct daemon *d, const char *why)
{
	fprintf(stderr, "jvpn: %s: %s, terminating sessions\n",
		d->cfg.node_id, why);
	(void)jv_sd_notify("STOPPING=1");
	/* before the sessions end and the device goes (PreDown) */
	hook_down(d);
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
			char msg[1024];

			/* both: logrotate's postrotate and a reload */
			if (jv_sink_reopen(&d->sink, &err) != 0)
				jv_print_error(&err);
			(void)reload(d, jv_mono_ms(), msg, sizeof(msg));
			jv_daemon_settle(d);
		} else {
			shutdown_now(d, si.ssi_signo == SIGINT ? "SIGINT"
							       : "SIGTERM");
			return;
		}
	}
}

/* ---- control socket ---- */

/* The kernel keeps this count (the device's): read when asked for. */
static void tun_queue_drops(struct daemon *d)
{
	uint64_t v;

	if (jv_tun_tx_dropped(d->tun_name, &v) == 0)
		d->drops[JV_DROP_TUN_QUEUE] = v;
}

static json_t *ctl_handler(void *ctx, const char *cmd, json_t *args)
{
	struct daemon *d = ctx;
	struct jv_ctl_node n = { d->ep, d->cfg.node_id, d->cfg.role, d->started,
				 reload, d, d->drops, d->tun_offload, d->tun_gso,
				 d->udp_gso, d->udp_gro };

	if (strcmp(cmd, "metrics") == 0)
		tun_queue_drops(d);
	json_t *r = jv_ctl_dispatch(&n, cmd, args, jv_mono_ms());

	jv_daemon_settle(d);
	return r;
}

/* ---- metrics over HTTP ---- */

static char *metrics_body(void *ctx)
{
	struct daemon *d = ctx;
	struct jv_ctl_node n = { d->ep, d->cfg.node_id, d->cfg.role, d->started,
				 NULL, NULL, d->drops, d->tun_offload,
				 d->tun_gso, d->udp_gso, d->udp_gro };

	tun_queue_drops(d);
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
	if ((rc = jv_tun_open_offload(tc->name, &d->tun_fd, d->tun_name,
				      &d->tun_offload, err)) != 0) {
		jv_config_blame(&d->cfg, tc->line_name, err, "tun.name");
		return rc;
	}
	if ((rc = jv_tun_configure(d->tun_name, tc->addr, tc->naddr, tc->mtu,
				   err)) != 0) {
		jv_config_blame(&d->cfg, tc->line, err, "tun");
		return rc;
	}
	if ((rc = setup_routes(d, err)) != 0)
		return rc;
	if (jv_loop_add(d->loop, d->tun_fd, EPOLLIN, on_tun, d) != 0 ||
	    setup_signals(d) != 0)
		return jv_error_set(err, JV_ERR_INVAL, d->cfg.file, 0,
				    "cannot set up the event loop");
	/* without it each socket reads into its own small buffers, no GRO */
	d->udp_pool = jv_udp_pool_new();
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

/*
 * Host names and link-local scopes (CONTRACT section 8), before anything
 * is opened: a name that does not exist is a mistake in the file (exit
 * 2). A lookup that failed for now (EAI_AGAIN: no network, no DNS yet)
 * stops the gateway, whose listeners must bind, but not the client: that
 * transport stays down and is looked up again (cli/drv_client.c).
 */
static int resolve_names(struct daemon *d, struct jv_error *err)
{
	struct jv_config *cfg = &d->cfg;
	char line[1024];
	int rc;

	for (uint32_t i = 0; i < cfg->nlisten; i++)
		if ((rc = jv_config_resolve_one(cfg, false, i, err)) != 0)
			return rc;
	for (uint32_t i = 0; i < cfg->ntransports; i++) {
		rc = jv_config_resolve_one(cfg, true, i, err);
		if (rc == JV_ERR_AGAIN) {
			jv_error_format(err, line, sizeof(line));
			fprintf(stderr, "jvpn: warning: %s; %s is down until it "
				"resolves\n", line, cfg->transports[i].id);
			continue;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int setup_engine(struct daemon *d)
{
	struct jv_endpoint_cfg ec;
	uint64_t now = jv_mono_ms();
	int rc;

	jv_config_endpoint(&d->cfg, &ec);
	ec.ops = (struct jv_endpoint_ops){ op_send, op_deliver, op_event,
					   op_random, op_lock,
					   op_format_path, op_path_bound };
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
	hook_down(d);                   /* the loop ended another way */
	remove_routes(d);               /* after on_down, as wg-quick */
	if (d->ctl)
		jv_ctl_close(d->ctl);
	jv_http_close(d->http);
	if (d->ep)
		jv_endpoint_free(d->ep);   /* wipes the session keys */
	d->drv->close(d);
	free(d->udp_pool);
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
		"configured audit path. SIGHUP reopens it and re-reads FILE, as\n"
		"`jvpn ctl reload` does (peers and policy; refused, the old\n"
		"configuration kept, when invalid or when it changes what needs\n"
		"a restart); SIGINT or SIGTERM terminates every session (the\n"
		"peer is told) and exits. on_up runs once the TUN device is up,\n"
		"on_down before it goes.\n"
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
	if ((rc = resolve_names(d, &err)) != 0) {
		jv_print_error(&err);
		jv_config_wipe(&d->cfg);
		free(d);
		return rc == JV_ERR_AGAIN ? 1 : 2;
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
		/* PostUp: the device is up, the sockets bound; before
		 * READY, so a unit has started when its hook has run */
		d->hook_up_ran = true;
		run_hook(d, "on_up", d->cfg.on_up);
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
