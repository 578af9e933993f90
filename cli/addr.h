/* Outer addresses as the configuration gives them (CONTRACT section 8):
 * "A.B.C.D:PORT", "[IPv6]:PORT", "[fe80::1%IFNAME]:PORT" or "NAME:PORT".
 * Parsing is text only (jv_config_parse is fuzzed and does no I/O); what
 * needs the system, a host name or an interface named as the scope, is
 * looked up by jv_addr_resolve, at start and again before a reconnect. */
#ifndef JV_CLI_ADDR_H
#define JV_CLI_ADDR_H

#include <net/if.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"

#define JV_HOST_MAX 254          /* a DNS name: 253 characters */

struct jv_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;               /* 0: unset, or a name not resolved yet */
	char host[JV_HOST_MAX];      /* a host name to resolve; "" numeric */
	uint16_t port;               /* with host: its port, host order */
	char scope[IFNAMSIZ];        /* "%IFNAME" of a link-local address */
};

enum {
	JV_ADDR_PORT = 1,            /* a port is required (else optional) */
	JV_ADDR_NAME = 2,            /* a host name may stand for the address */
};

/*
 * Parses s into a (zeroed first). A numeric address fills ss and len
 * (a numeric scope "%3" too); a name fills host and port, an interface
 * scope fills scope, both left for jv_addr_resolve. Returns NULL or what
 * is wrong, for a message ("port 0 is out of range (1..65535)").
 */
const char *jv_addr_parse(const char *s, unsigned flags,
			  struct jv_sockaddr *a);

/* Whether a still needs jv_addr_resolve (a name, an interface scope). */
int jv_addr_needs_lookup(const struct jv_sockaddr *a);

/*
 * Fills ss and len: a host name through getaddrinfo (numeric port, of
 * family when not AF_UNSPEC, the first result), an interface scope
 * through if_nametoindex. Numeric addresses are left alone. Returns 0;
 * JV_ERR_NOTFOUND (no such name or interface, no address of family) or
 * JV_ERR_AGAIN (a temporary failure: try again later), err saying what
 * (no file, no line: the caller names the key). len stays as it was on
 * failure.
 */
int jv_addr_resolve(struct jv_sockaddr *a, int family, struct jv_error *err);

/* Whether a and b are the same configured address (the name, or the
 * numeric address and its scope). */
int jv_addr_same(const struct jv_sockaddr *a, const struct jv_sockaddr *b);

/* The address as configured: "NAME:PORT" for a name, else numeric with
 * its scope ("[fe80::1%ca0]:51820"). */
void jv_addr_format(const struct jv_sockaddr *a, char *out, size_t cap);

#endif
