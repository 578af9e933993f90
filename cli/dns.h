/* The client's DNS (config dns, dns_search; CONTRACT section 8): set for
 * the tunnel's interface while the client runs, as wg-quick's DNS = does,
 * through whoever is in charge of /etc/resolv.conf:
 *
 *   resolved    systemd-resolved runs and /etc/resolv.conf is its file:
 *               `resolvectl dns IFACE ...`, `resolvectl domain IFACE ~.
 *               SEARCH...`; undone with `resolvectl revert IFACE`
 *   resolvconf  resolvconf is installed and /etc/resolv.conf is its file:
 *               `resolvconf -a IFACE -m 0 -x` fed nameserver and search
 *               lines; undone with `resolvconf -d IFACE -f`
 *   file        neither: /etc/resolv.conf is rewritten in place and its
 *               old contents put back on exit
 *
 * "Its file": /etc/resolv.conf leads (through symlinks) into the
 * manager's run directory or names it in a comment. A manager that does
 * not write the file the resolver reads would take the settings and
 * nobody would use them: inside a network namespace (`ip netns exec`
 * bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf) the
 * host's resolved must not be told about an interface it cannot see.
 *
 * A state file (the control socket's path + ".dns") is written before
 * anything is changed and removed once it is undone: it names the method
 * and the interface and, for "file", holds the old resolv.conf and a hash
 * of what jvpn wrote. A client that was killed leaves it behind; the next
 * start of a client with that control_socket undoes what it says first.
 * The file method restores the old contents only while resolv.conf still
 * holds exactly what jvpn wrote: a file someone else rewrote meanwhile (a
 * DHCP client, NetworkManager, an administrator) is left as it is, and
 * that is said on stderr.
 */
#ifndef JV_CLI_DNS_H
#define JV_CLI_DNS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/config.h"

#define JV_DNS_RESOLV_CONF "/etc/resolv.conf"
#define JV_DNS_FILE_MAX 65536           /* a larger resolv.conf is refused */
#define JV_DNS_ARGS_MAX 24
#define JV_DNS_TEXT_MAX 4096            /* the lines jvpn writes */

enum jv_dns_method {
	JV_DNS_FILE,
	JV_DNS_RESOLVED,
	JV_DNS_RESOLVCONF,
};

/* What the system looks like, gathered by jv_dns_facts(). */
struct jv_dns_facts {
	char resolvectl[128];            /* its path, "" when not found */
	char resolvconf[128];
	bool resolved_running;           /* its socket in /run/systemd/resolve */
	char target[256];                /* /etc/resolv.conf, symlinks followed;
					  * "" when it does not resolve */
	char head[1024];                 /* its first bytes, "" if unreadable */
};

/* One command: argv[0] a path, NULL last; input fed on stdin ("": none). */
struct jv_dns_cmd {
	char *argv[JV_DNS_ARGS_MAX + 1];
	char input[JV_DNS_TEXT_MAX];
	char store[JV_DNS_TEXT_MAX];      /* the strings argv points into */
};

/* What to do for a method: the commands to run at up (resolved: 2,
 * resolvconf: 1, file: 0) and the one at down. */
struct jv_dns_plan {
	enum jv_dns_method method;
	struct jv_dns_cmd up[2], down;
	int nup;
	bool has_down;
};

/* The method facts call for (see above). */
enum jv_dns_method jv_dns_choose(const struct jv_dns_facts *f);

/* "file", "resolved", "resolvconf"; and back (-1: none of them). */
const char *jv_dns_method_name(enum jv_dns_method m);
int jv_dns_method_of(const char *name);

/* The commands for method m on interface ifname with cfg's dns and
 * dns_search; the programs' paths from f. 0, or -1 when a list does
 * not fit (it cannot, within the config's bounds). */
int jv_dns_plan(enum jv_dns_method m, const struct jv_dns_facts *f,
		const struct jv_config *cfg, const char *ifname,
		struct jv_dns_plan *p);

/* The undo command of method m alone (what a state file names). */
int jv_dns_plan_down(enum jv_dns_method m, const struct jv_dns_facts *f,
		     const char *ifname, struct jv_dns_plan *p);

/* The resolv.conf jvpn writes (method file): a comment, the nameserver
 * lines, a search line, and the options lines of old (the previous file,
 * NULL: none) so local resolver tuning stays. Returns the length, or
 * -1 when it does not fit in cap. */
int jv_dns_resolv_text(const struct jv_config *cfg, const char *ifname,
		       const char *old, char *buf, size_t cap);

/* The state file of a config: control_socket + ".dns". */
int jv_dns_state_path(const struct jv_config *cfg, char *buf, size_t cap);

/*
 * The file method on explicit paths (the tests use a temporary directory):
 * saves resolv's contents, the hash of text and the interface to state
 * (written whole, then renamed into place), then writes text into resolv
 * in place: truncated and rewritten, never replaced, as it may be a bind
 * mount. 0, or -1 with msg (nothing changed, state removed).
 */
int jv_dns_file_apply(const char *resolv, const char *state,
		      const char *ifname, const char *text, char *msg,
		      size_t cap);

/* The outcome of undoing a state file. */
enum jv_dns_undo {
	JV_DNS_NOTHING,                  /* no state file */
	JV_DNS_RESTORED,                 /* resolv.conf put back / command ran */
	JV_DNS_UNCHANGED,                /* file: it already held the old text */
	JV_DNS_LEFT,                     /* file: someone else rewrote it */
	JV_DNS_FAILED,                   /* msg says why; state kept */
};

/*
 * Undoes what state says: for the file method on resolv (the hash rule
 * above), for resolved and resolvconf by running their undo command
 * (programs found as f says; f NULL: looked up now). Removes state
 * unless it FAILED. msg says what happened (for the log) in every case
 * but NOTHING.
 */
enum jv_dns_undo jv_dns_undo_state(const char *resolv, const char *state,
				   const struct jv_dns_facts *f, char *msg,
				   size_t cap);

/* Looks at this system (PATH directories, /run/systemd/resolve,
 * /etc/resolv.conf). */
void jv_dns_facts(struct jv_dns_facts *f);

/* ---- the client's calls (cli/drv_client.c) ---- */

struct jv_dns {
	bool applied;                    /* down is due */
	char state[JV_CFG_PATH_MAX];
};

/* At start, before anything else: undoes the state file a killed client
 * left for this config, if any (said on stderr). */
void jv_dns_recover(const struct jv_config *cfg);

/*
 * Once the interface is up, when cfg has dns: applies it (said on
 * stderr: the method and the servers). 0, or an error naming the
 * config's dns key: the client does not run with a DNS it was told to
 * use but could not set.
 */
int jv_dns_up(struct jv_dns *d, const struct jv_config *cfg,
	      const char *ifname, struct jv_error *err);

/* At exit, before the interface goes: undoes what jv_dns_up applied. */
void jv_dns_down(struct jv_dns *d);

#endif
