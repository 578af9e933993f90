/* rtnetlink requests and dumps with libmnl, shared by the TUN
 * configuration (io/tun.c) and the routes (io/route.c): every request is
 * ACKed, every wait bounded, only the kernel's replies count, and the
 * kernel's own explanation (extended ACK) is kept for the error. */
#ifndef JV_IO_NL_H
#define JV_IO_NL_H

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

/* A NETLINK_ROUTE socket asking for extended ACKs, or NULL (errno). */
struct mnl_socket *jv_nl_open(void);

/* Starts a request in buf (an ACK asked for): *h is its header; returns
 * its family header of fam_len bytes, zeroed. */
void *jv_nl_req_init(uint8_t *buf, struct nlmsghdr **h, uint16_t type,
		     uint16_t flags, uint32_t seq, size_t fam_len);

/* Sends one request and waits (bounded) for its ACK: 0 or -errno, with
 * the kernel's words in txt[cap] when it gave some ("" otherwise). */
int jv_nl_transact(struct mnl_socket *nl, const struct nlmsghdr *req,
		   char *txt, size_t cap);

/* Called for each message of a dump; returns 0 to go on. */
typedef int (*jv_nl_dump_cb)(const struct nlmsghdr *h, void *ctx);

/* Sends the dump request req (NLM_F_DUMP set by the caller) and calls cb
 * for each message until NLMSG_DONE: 0, -errno, or cb's non-zero. */
int jv_nl_dump(struct mnl_socket *nl, const struct nlmsghdr *req,
	       jv_nl_dump_cb cb, void *ctx);

#endif
