/* rtnetlink requests and dumps (io/nl.h): requests built and replies
 * walked with libmnl (bounds-checked attributes, no hand-computed
 * offsets). */
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "io/nl.h"

/* The kernel answers rtnetlink requests synchronously; this only bounds
 * the wait if it never does. */
#define ACK_TIMEOUT_MS 2000
/* a dump's datagrams: the kernel fills up to a page or so each */
#define NL_BUF 16384

struct mnl_socket *jv_nl_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	int one = 1;

	/* best effort: older kernels simply send no text */
	if (nl)
		(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one,
					    sizeof(one));
	return nl;
}

/* Finds the kernel's own words in an extended ACK (NLMSGERR_ATTR_MSG), if
 * it sent any: "mtu less than device minimum" says more than EINVAL. */
static void ack_text(const struct nlmsghdr *h, char *txt, size_t cap)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
	size_t off = sizeof(*e);
	const struct nlattr *a;

	txt[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* without NLM_F_CAPPED the request itself is echoed first */
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr) ||
		    e->msg.nlmsg_len > h->nlmsg_len)
			return;
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	mnl_attr_for_each(a, h, off) {
		size_t n = mnl_attr_get_payload_len(a);

		if (mnl_attr_get_type(a) != NLMSGERR_ATTR_MSG || n == 0)
			continue;
		if (n >= cap)
			n = cap - 1;
		memcpy(txt, mnl_attr_get_payload(a), n);
		txt[n] = '\0';
		return;
	}
}

/* An NLMSG_ERROR message: its error (0 for an ACK, else -errno). */
static int error_of(const struct nlmsghdr *h, char *txt, size_t cap)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

	if (h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)) || e->error > 0)
		return -EPROTO;
	if (e->error && txt)
		ack_text(h, txt, cap);
	return e->error;
}

/* Reads one datagram from the kernel into buf (bounded wait): its length
 * or -errno. The reply is read with recvfrom, not mnl_socket_recvfrom,
 * to see who sent it. */
static int recv_kernel(struct mnl_socket *nl, uint8_t *buf, size_t cap)
{
	struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };

	for (;;) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t n;
		int ready = poll(&p, 1, ACK_TIMEOUT_MS);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return -errno;
		if (ready == 0)
			return -ETIMEDOUT;
		n = recvfrom(p.fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &flen);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if ((size_t)n > cap)
			return -EMSGSIZE;
		/* only the kernel's word counts */
		if (flen < sizeof(from) || from.nl_pid != 0)
			continue;
		return (int)n;
	}
}

void *jv_nl_req_init(uint8_t *buf, struct nlmsghdr **h, uint16_t type,
		     uint16_t flags, uint32_t seq, size_t fam_len)
{
	*h = mnl_nlmsg_put_header(buf);
	(*h)->nlmsg_type = type;
	(*h)->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	(*h)->nlmsg_seq = seq;
	return mnl_nlmsg_put_extra_header(*h, fam_len);
}

int jv_nl_transact(struct mnl_socket *nl, const struct nlmsghdr *req,
		   char *txt, size_t cap)
{
	_Alignas(struct nlmsghdr) uint8_t buf[4096];

	txt[0] = '\0';
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *h;
		int left = recv_kernel(nl, buf, sizeof(buf));

		if (left < 0)
			return left;
		for (h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
		     h = mnl_nlmsg_next(h, &left))
			if (h->nlmsg_seq == req->nlmsg_seq &&
			    h->nlmsg_type == NLMSG_ERROR)
				return error_of(h, txt, cap);
	}
}

int jv_nl_dump(struct mnl_socket *nl, const struct nlmsghdr *req,
	       jv_nl_dump_cb cb, void *ctx)
{
	_Alignas(struct nlmsghdr) uint8_t buf[NL_BUF];

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *h;
		int left = recv_kernel(nl, buf, sizeof(buf));

		if (left < 0)
			return left;
		for (h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
		     h = mnl_nlmsg_next(h, &left)) {
			int rc;

			if (h->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				rc = error_of(h, NULL, 0);
				/* the ACK a dump may end with */
				if (rc == 0)
					return 0;
				return rc;
			}
			if ((rc = cb(h, ctx)) != 0)
				return rc;
		}
	}
}
