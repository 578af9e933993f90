/* hsflood: forged HS_INITs from many source addresses, as fast as one
 * thread can send them, for bench/flood.sh (a benchmark, never a test).
 *
 *   hsflood DST PORT MODE SERVER_PUB SRC_FIRST NSRC SECONDS MAX_PACKETS [PPS]
 *
 * MODE   bad     210 bytes, type 1, random content: mac1 is wrong
 *        mac1    random content under a valid mac1, no mac2: the server
 *                counts them toward load mode and, under load, answers
 *                each with a COOKIE_REPLY
 *        cookie  as mac1, and the cookies the server sends are opened and
 *                used: once a source has one, its HS_INITs carry a valid
 *                mac2, so the per-source token bucket and the DH are what
 *                stands in the way
 * SERVER_PUB  the server's public key (base64, as `jvpn pubkey` prints it)
 * SRC_FIRST, NSRC  the sources: NSRC consecutive IPv4 addresses from
 *                SRC_FIRST, which must be local (each message picks its
 *                source with IP_PKTINFO; one socket on one port receives
 *                every reply)
 * SECONDS, MAX_PACKETS  bounds: it stops at whichever comes first (at most
 *                120 s and 100,000,000 packets whatever is asked).
 * PPS    packets a second at most (paced per batch); 0 or none: as fast
 *        as it can.
 *
 * Sends to DST:PORT only. Prints one line of key=value results. The
 * message layout is docs/protocol.md's (HS_INIT, COOKIE_REPLY); the MACs
 * and the cookie come from proto/cookie.h, as a client computes them
 * (tests/unit/test_cookie.c checks those against the server). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/cookie.h"

#define NMSG 1024               /* distinct messages, cycled */
#define BATCH 64
#define MAX_SRC 4096
#define MAX_SECONDS 120.0
#define MAX_PACKETS 100000000ull

static uint8_t msgs[NMSG][JV_HS_INIT_LEN];
static uint8_t cookie[MAX_SRC][JV_COOKIE_LEN];
static uint8_t has_cookie[MAX_SRC];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint8_t pub[32];
	struct jv_cookie_keys keys;
	size_t publen = 0;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	uint32_t first;
	int nsrc, mode, fd, one = 1;
	double seconds, t0, end;
	unsigned long long maxp, sent = 0, rx = 0, rx_bytes = 0, cookies = 0,
				     cookies_bad = 0, with_mac2 = 0, send_err = 0;
	/* the batch: one buffer, one address and one PKTINFO per message */
	static uint8_t buf[BATCH][JV_HS_INIT_LEN];
	static struct mmsghdr mm[BATCH];
	static struct iovec iov[BATCH];
	static union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} ctl[BATCH];
	static uint8_t rbuf[BATCH][256];
	static struct mmsghdr rm[BATCH];
	static struct iovec riov[BATCH];
	static union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} rctl[BATCH];
	unsigned src = 0, mi = 0;
	double pps = argc > 9 ? atof(argv[9]) : 0;

	if (argc != 9 && argc != 10) {
		fprintf(stderr, "usage: hsflood DST PORT bad|mac1|cookie "
				"SERVER_PUB SRC_FIRST NSRC SECONDS MAX_PACKETS [PPS]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1)
		return fprintf(stderr, "bad DST\n"), 2;
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	mode = !strcmp(argv[3], "bad") ? 0 : !strcmp(argv[3], "mac1") ? 1
	       : !strcmp(argv[3], "cookie") ? 2 : -1;
	if (mode < 0)
		return fprintf(stderr, "bad MODE\n"), 2;
	if (sodium_base642bin(pub, sizeof(pub), argv[4], strlen(argv[4]), " \n",
			      &publen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    publen != 32)
		return fprintf(stderr, "bad SERVER_PUB\n"), 2;
	if (inet_pton(AF_INET, argv[5], &first) != 1)
		return fprintf(stderr, "bad SRC_FIRST\n"), 2;
	first = ntohl(first);
	nsrc = atoi(argv[6]);
	if (nsrc < 1 || nsrc > MAX_SRC)
		return fprintf(stderr, "NSRC: 1..%d\n", MAX_SRC), 2;
	seconds = atof(argv[7]);
	if (!(seconds > 0) || seconds > MAX_SECONDS)
		seconds = MAX_SECONDS;
	maxp = strtoull(argv[8], NULL, 10);
	if (maxp == 0 || maxp > MAX_PACKETS)
		maxp = MAX_PACKETS;

	jv_cookie_keys_init(&keys, pub);
	for (int i = 0; i < NMSG; i++) {
		uint8_t *m = msgs[i];

		randombytes_buf(m, JV_HS_INIT_LEN);
		m[0] = 1;
		m[1] = m[2] = m[3] = 0;
		/* sender_index: the message's own number, so a cookie reply
		 * (which echoes it) names the mac1 it is sealed to */
		m[4] = (uint8_t)(i + 1);
		m[5] = (uint8_t)((i + 1) >> 8);
		m[6] = m[7] = 0;
		if (mode >= 1)
			jv_hs_init_macs(&keys, NULL, m);   /* mac2 zero */
	}

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return perror("socket"), 1;
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	{
		struct sockaddr_in any = { .sin_family = AF_INET,
					   .sin_port = htons(40000) };
		if (bind(fd, (struct sockaddr *)&any, sizeof(any)) != 0)
			return perror("bind"), 1;
	}
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = JV_HS_INIT_LEN;
		mm[i].msg_hdr.msg_name = &dst;
		mm[i].msg_hdr.msg_namelen = sizeof(dst);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_control = ctl[i].b;
		mm[i].msg_hdr.msg_controllen = sizeof(ctl[i].b);
		riov[i].iov_base = rbuf[i];
		riov[i].iov_len = sizeof(rbuf[i]);
		rm[i].msg_hdr.msg_iov = &riov[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = now_s();
	end = t0 + seconds;
	while (sent < maxp) {
		int n = BATCH, r;

		if ((sent & 1023) == 0 && now_s() >= end)
			break;
		if ((unsigned long long)n > maxp - sent)
			n = (int)(maxp - sent);
		for (int i = 0; i < n; i++) {
			struct cmsghdr *c = &ctl[i].h;
			struct in_pktinfo pi = { 0 };

			memcpy(buf[i], msgs[mi], JV_HS_INIT_LEN);
			if (mode == 2 && has_cookie[src]) {
				jv_hs_init_macs(&keys, cookie[src], buf[i]);
				with_mac2++;
			}
			pi.ipi_spec_dst.s_addr = htonl(first + src);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i].b);
			src = (src + 1) % (unsigned)nsrc;
			mi = (mi + 1) % NMSG;
		}
		r = sendmmsg(fd, mm, (unsigned)n, 0);
		if (r < 0) {
			send_err++;
			if (send_err > 1000000)
				break;
			continue;
		}
		sent += (unsigned)r;
		if (pps > 0) {
			double ahead = t0 + (double)sent / pps - now_s();

			if (ahead > 0) {
				struct timespec ts = {
					.tv_sec = (time_t)ahead,
					.tv_nsec = (long)((ahead - (double)(time_t)ahead) * 1e9)
				};
				nanosleep(&ts, NULL);
			}
		}
		/* the replies: counted, and in cookie mode opened */
		for (int round = 0; round < 4; round++) {
			for (int i = 0; i < BATCH; i++) {
				rm[i].msg_hdr.msg_control = rctl[i].b;
				rm[i].msg_hdr.msg_controllen = sizeof(rctl[i].b);
				riov[i].iov_len = sizeof(rbuf[i]);
			}
			r = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
			if (r <= 0)
				break;
			for (int i = 0; i < r; i++) {
				const uint8_t *p = rbuf[i];
				struct cmsghdr *c;
				struct jv_cookie_reply cr;
				uint32_t idx, to = 0;

				rx++;
				rx_bytes += rm[i].msg_len;
				if (jv_cookie_reply_decode(&cr, p, rm[i].msg_len) != 0)
					continue;
				cookies++;
				if (mode != 2)
					continue;
				for (c = CMSG_FIRSTHDR(&rm[i].msg_hdr); c;
				     c = CMSG_NXTHDR(&rm[i].msg_hdr, c))
					if (c->cmsg_level == IPPROTO_IP &&
					    c->cmsg_type == IP_PKTINFO) {
						struct in_pktinfo pi;

						memcpy(&pi, CMSG_DATA(c), sizeof(pi));
						to = ntohl(pi.ipi_addr.s_addr);
					}
				idx = cr.receiver_index;
				if (to < first || to - first >= (uint32_t)nsrc ||
				    idx < 1 || idx > NMSG) {
					cookies_bad++;
					continue;
				}
				if (jv_cookie_reply_open(&keys, &cr,
							 msgs[idx - 1] + JV_HS_INIT_MAC1_OFF,
							 cookie[to - first]) != 0) {
					cookies_bad++;
					continue;
				}
				has_cookie[to - first] = 1;
			}
		}
	}
	{
		double dt = now_s() - t0;

		printf("mode=%s sent=%llu seconds=%.2f rate_pps=%.0f "
		       "sent_bytes=%llu replies=%llu reply_bytes=%llu "
		       "cookie_replies=%llu cookies_unopened=%llu "
		       "with_mac2=%llu send_errors=%llu\n",
		       argv[3], sent, dt, dt > 0 ? (double)sent / dt : 0.0,
		       sent * JV_HS_INIT_LEN, rx, rx_bytes, cookies, cookies_bad,
		       with_mac2, send_err);
	}
	close(fd);
	return 0;
}
