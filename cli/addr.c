/* Outer addresses: the text of the configuration (no I/O), then the
 * lookups it leaves for later (getaddrinfo, if_nametoindex). */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/addr.h"
#include "io/udp.h"

/* RFC 1123 host name syntax: dot-separated labels of letters, digits and
 * '-', 1..63 characters each, no '-' at either end, 253 in all, an
 * optional final dot. The last label may not be all digits (RFC 3696), so
 * a mistyped IPv4 address ("10.0.0.256") is refused, not looked up. */
static bool host_name(const char *s, size_t n)
{
	size_t label = 0;
	bool digits = true;

	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			if (i == n && digits)
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return false;
		if ((label == 0 && c == '-') || ++label > 63)
			return false;
		if (c < '0' || c > '9')
			digits = false;
	}
	return true;
}

/* digits only: strtoul alone would take " 443" or "+443" */
static const char *parse_port(const char *p, uint16_t *port)
{
	size_t n = strlen(p);
	unsigned long v;

	if (n < 1 || strspn(p, "0123456789") != n)
		return "the port is not a number";
	v = n > 5 ? 65536 : strtoul(p, NULL, 10);
	if (v < 1 || v > 65535)
		return "the port is out of range (1..65535)";
	*port = (uint16_t)v;
	return NULL;
}

/* "%IFNAME" or "%INDEX" after a link-local IPv6 address. */
static const char *parse_scope(const char *z, struct sockaddr_in6 *a,
			       struct jv_sockaddr *out)
{
	size_t n = strlen(z);

	if (!IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr) &&
	    !IN6_IS_ADDR_MC_LINKLOCAL(&a->sin6_addr))
		return "a scope (%IFNAME) is only for a link-local address "
		       "(fe80::/10)";
	if (n == 0 || n >= IFNAMSIZ || strpbrk(z, "/: \t%"))
		return "the scope after '%' is not an interface name";
	if (strspn(z, "0123456789") == n) {
		unsigned long v = strtoul(z, NULL, 10);

		if (v == 0 || v > 0x7fffffff)
			return "the scope index is out of range";
		a->sin6_scope_id = (uint32_t)v;
		return NULL;
	}
	memcpy(out->scope, z, n + 1);
	return NULL;
}

const char *jv_addr_parse(const char *s, unsigned flags,
			  struct jv_sockaddr *out)
{
	bool need_port = flags & JV_ADDR_PORT;
	char host[JV_HOST_MAX + 1];
	const char *port = NULL, *why;
	uint16_t p = 0;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e)
			return "no ']' after the IPv6 address";
		if (e[1] && e[1] != ':')
			return "':PORT' must follow ']'";
		hl = (size_t)(e - s - 1);
		if (hl >= sizeof(host))
			return "not an IPv6 address";
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		port = e[1] ? e + 2 : NULL;
	} else if (strchr(s, ':') != strrchr(s, ':')) {
		/* a bare IPv6 address: no port can follow */
		hl = strlen(s);
		if (hl >= sizeof(host))
			return "not an IPv6 address";
		memcpy(host, s, hl + 1);
		host[strcspn(host, "%")] = '\0';
		if (inet_pton(AF_INET6, host, &(struct in6_addr){ 0 }) != 1)
			return "not an address (too many ':'; IPv6 is written "
			       "[ADDRESS]:PORT)";
		if (need_port)
			return "an IPv6 address with a port is written "
			       "[ADDRESS]:PORT";
		memcpy(host, s, hl + 1);
	} else {
		const char *c = strchr(s, ':');

		hl = c ? (size_t)(c - s) : strlen(s);
		if (hl >= sizeof(host))
			return "the host name is longer than 253 characters";
		memcpy(host, s, hl);
		host[hl] = '\0';
		port = c ? c + 1 : NULL;
	}
	if (port && (why = parse_port(port, &p)))
		return why;
	if (!port && need_port)
		return "no port (ADDRESS:PORT)";
	if (s[0] == '[' || strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->ss;
		char *pct = strchr(host, '%');

		if (pct)
			*pct = '\0';
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return "not an IPv6 address";
		if (pct && (why = parse_scope(pct + 1, a, out)))
			return why;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(p);
		out->len = sizeof(*a);
		out->port = p;
		return NULL;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)&out->ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) == 1) {
			a->sin_family = AF_INET;
			a->sin_port = htons(p);
			out->len = sizeof(*a);
			out->port = p;
			return NULL;
		}
	}
	if (!(flags & JV_ADDR_NAME))
		return "not a numeric address";
	if (hl > 253 && hl - (host[hl - 1] == '.') > 253)
		return "the host name is longer than 253 characters";
	if (!host_name(host, hl))
		return "neither an IP address nor a host name";
	if (!port)
		return "no port (NAME:PORT)";
	memcpy(out->host, host, hl + 1);
	out->port = p;
	return NULL;
}

int jv_addr_needs_lookup(const struct jv_sockaddr *a)
{
	return a->host[0] || a->scope[0];
}

int jv_addr_resolve(struct jv_sockaddr *a, int family, struct jv_error *err)
{
	struct addrinfo hints = { .ai_family = family,
				  .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char port[8];
	int rc;

	if (a->scope[0]) {
		unsigned idx = if_nametoindex(a->scope);

		if (!idx)
			return jv_error_set(err, JV_ERR_NOTFOUND, "", 0,
					    "no interface \"%s\" (the scope of "
					    "the link-local address)", a->scope);
		((struct sockaddr_in6 *)&a->ss)->sin6_scope_id = idx;
		return JV_OK;
	}
	if (!a->host[0])
		return JV_OK;
	snprintf(port, sizeof(port), "%u", a->port);
	rc = getaddrinfo(a->host, port, &hints, &res);
	if (rc == 0 && (!res || res->ai_addrlen > sizeof(a->ss)))
		rc = EAI_FAIL;
	if (rc != 0) {
		bool temporary = rc == EAI_AGAIN || rc == EAI_MEMORY ||
				 rc == EAI_SYSTEM;

		if (res)
			freeaddrinfo(res);
		return jv_error_set(err, temporary ? JV_ERR_AGAIN
						   : JV_ERR_NOTFOUND, "", 0,
				    "cannot resolve \"%s\"%s: %s", a->host,
				    family == AF_INET ? " (IPv4)"
				    : family == AF_INET6 ? " (IPv6)" : "",
				    gai_strerror(rc));
	}
	memset(&a->ss, 0, sizeof(a->ss));
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	return JV_OK;
}

int jv_addr_same(const struct jv_sockaddr *a, const struct jv_sockaddr *b)
{
	const struct sockaddr_in6 *x = (const void *)&a->ss,
				  *y = (const void *)&b->ss;

	if (a->host[0] || b->host[0])
		return strcmp(a->host, b->host) == 0 && a->port == b->port;
	/* a scope by name: the index it had when looked up does not count
	 * (a running daemon's copy has one, a file read again not yet) */
	if (a->scope[0] || b->scope[0])
		return strcmp(a->scope, b->scope) == 0 && a->len == b->len &&
		       x->sin6_port == y->sin6_port &&
		       IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr);
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

void jv_addr_format(const struct jv_sockaddr *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->host[0]) {
		snprintf(out, cap, "%s:%u", a->host, a->port);
	} else if (a->scope[0] && a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&a->ss;

		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s%%%s]:%u", ip, a->scope,
			 ntohs(s->sin6_port));
	} else if (a->len) {
		jv_sockaddr_format((const struct sockaddr *)&a->ss, out, cap);
	} else {
		snprintf(out, cap, "?");
	}
}
