/* Segmentation offload in userspace (core/gso.h). Pure computation. */
#include <string.h>

#include "core/err.h"
#include "core/gso.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

void jv_vnet_hdr_read(const uint8_t *buf, struct jv_vnet_hdr *h)
{
	h->flags = buf[0];
	h->gso_type = buf[1];
	/* host order: the device was not told another (TUNSETVNETLE) */
	memcpy(&h->hdr_len, buf + 2, 2);
	memcpy(&h->gso_size, buf + 4, 2);
	memcpy(&h->csum_start, buf + 6, 2);
	memcpy(&h->csum_offset, buf + 8, 2);
}

/* Only the last piece of a checksum computed in pieces may be odd. */
uint64_t jv_csum_add(uint64_t sum, const uint8_t *buf, size_t len)
{
	size_t i = 0;

	for (; i + 4 <= len; i += 4)
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]) +
		       (uint32_t)(buf[i + 2] << 8 | buf[i + 3]);
	for (; i + 2 <= len; i += 2)
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	if (i < len)
		sum += (uint32_t)buf[i] << 8;
	return sum;
}

uint16_t jv_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The TCP/UDP pseudo-header's sum: addresses, protocol, L4 length. */
static uint64_t pseudo(const uint8_t *ip, int v6, uint8_t proto, size_t l4len)
{
	uint64_t sum = v6 ? jv_csum_add(0, ip + 8, 32)
			  : jv_csum_add(0, ip + 12, 8);

	return sum + proto + (uint32_t)l4len;
}

/* The checksum the kernel left partial: the field holds the pseudo-
 * header's sum, the rest is summed from csum_start to the end. */
static int complete_csum(const struct jv_vnet_hdr *h, uint8_t *pkt,
			 size_t len)
{
	size_t at = (size_t)h->csum_start + h->csum_offset;
	uint16_t c;

	if (at + 2 > len)
		return JV_ERR_INVAL;
	c = (uint16_t)~jv_csum_fold(jv_csum_add(0, pkt + h->csum_start,
						 len - h->csum_start));
	put16(pkt + at, c);
	return 0;
}

int jv_gso_split(const struct jv_vnet_hdr *h, uint8_t *pkt, size_t len,
		 uint8_t *scratch, size_t cap, jv_gso_cb cb, void *ctx)
{
	size_t l4 = h->csum_start, hdr, off, mss = h->gso_size;
	int v6, tcp, n = 0;
	uint8_t proto;
	uint32_t seq = 0;
	uint16_t id;

	if (len < 20)
		return JV_ERR_INVAL;
	if (h->gso_type == JV_VNET_GSO_NONE) {
		if ((h->flags & JV_VNET_F_NEEDS_CSUM) &&
		    complete_csum(h, pkt, len) != 0)
			return JV_ERR_INVAL;
		cb(ctx, pkt, len);
		return 1;
	}
	v6 = (pkt[0] >> 4) == 6;
	if (!v6 && (pkt[0] >> 4) != 4)
		return JV_ERR_INVAL;
	switch (h->gso_type) {
	case JV_VNET_GSO_TCPV4:
	case JV_VNET_GSO_TCPV6:
		if (v6 != (h->gso_type == JV_VNET_GSO_TCPV6))
			return JV_ERR_INVAL;
		tcp = 1;
		proto = 6;
		break;
	case JV_VNET_GSO_UDP_L4:
		tcp = 0;
		proto = 17;
		break;
	default:
		return JV_ERR_INVAL;
	}
	/* the L4 header where the checksum starts (past any IPv6 extension
	 * headers); the header length from the packet itself, hdr_len is
	 * only a hint */
	if (l4 < (v6 ? 40u : (size_t)(pkt[0] & 15) * 4) || l4 < 20 ||
	    l4 + (tcp ? 20u : 8u) > len || mss == 0)
		return JV_ERR_INVAL;
	if (!v6 && pkt[9] != proto)
		return JV_ERR_INVAL;
	hdr = l4 + (tcp ? (size_t)(pkt[l4 + 12] >> 4) * 4 : 8);
	if ((tcp && hdr < l4 + 20) || hdr > len || hdr + mss > cap)
		return JV_ERR_INVAL;
	if (tcp)
		seq = get32(pkt + l4 + 4);
	id = v6 ? 0 : get16(pkt + 4);
	for (off = hdr;; off += mss, n++) {
		size_t seg = len - off < mss ? len - off : mss, tot = hdr + seg;
		int last = off + seg >= len;
		uint8_t *o = scratch;

		memcpy(o, pkt, hdr);
		memcpy(o + hdr, pkt + off, seg);
		if (v6) {
			put16(o + 4, (uint16_t)(tot - 40));
		} else {
			size_t ihl = (size_t)(o[0] & 15) * 4;

			put16(o + 2, (uint16_t)tot);
			put16(o + 4, (uint16_t)(id + n));
			put16(o + 10, 0);
			put16(o + 10, (uint16_t)~jv_csum_fold(jv_csum_add(0, o,
									     ihl)));
		}
		if (tcp) {
			put32(o + l4 + 4, seq + (uint32_t)(off - hdr));
			/* FIN and PSH end the burst, CWR starts it */
			if (!last)
				o[l4 + 13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (n > 0)
				o[l4 + 13] &= (uint8_t)~TCP_CWR;
			put16(o + l4 + 16, 0);
		} else {
			put16(o + l4 + 4, (uint16_t)(tot - l4));
			put16(o + l4 + 6, 0);
		}
		{
			uint64_t s = pseudo(o, v6, proto, tot - l4);
			uint16_t c = (uint16_t)~jv_csum_fold(
				jv_csum_add(s, o + l4, tot - l4));

			/* UDP: 0 means none; its complement stands in */
			if (!tcp && c == 0)
				c = 0xffff;
			put16(o + l4 + (tcp ? 16 : 6), c);
		}
		cb(ctx, o, tot);
		if (last)
			return n + 1;
	}
}
