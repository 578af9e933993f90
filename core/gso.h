/* Segmentation offload in userspace, sans I/O: a TUN device opened with
 * IFF_VNET_HDR and offloads (TSO, USO, checksum) hands over one "super
 * packet" of up to 64 KiB behind a virtio_net_hdr; this splits it into the
 * IP packets the wire would have carried, each with its own IPv4/IPv6
 * header (length, IPv4 id and checksum), TCP sequence number and flags or
 * UDP length, and a complete TCP/UDP checksum. A packet without GSO whose
 * checksum the kernel left partial (NEEDS_CSUM) is completed in place. */
#ifndef JV_GSO_H
#define JV_GSO_H

#include <stddef.h>
#include <stdint.h>

/* struct virtio_net_hdr (linux/virtio_net.h), in host byte order as a TUN
 * device without TUNSETVNETLE/BE uses on a little-endian host */
struct jv_vnet_hdr {
	uint8_t flags;                  /* JV_VNET_F_NEEDS_CSUM */
	uint8_t gso_type;               /* JV_VNET_GSO_* */
	uint16_t hdr_len;               /* IP + L4 headers (a hint only) */
	uint16_t gso_size;              /* payload bytes per segment */
	uint16_t csum_start;            /* where the L4 header starts */
	uint16_t csum_offset;           /* its checksum, from csum_start */
};
#define JV_VNET_HDR_LEN 10

#define JV_VNET_F_NEEDS_CSUM 1
#define JV_VNET_GSO_NONE 0
#define JV_VNET_GSO_TCPV4 1
#define JV_VNET_GSO_TCPV6 4
#define JV_VNET_GSO_UDP_L4 5

/* The most a TUN read carries: the header, then an IP packet. */
#define JV_GSO_MAX 65535

/* Reads h from the first JV_VNET_HDR_LEN bytes of buf. */
void jv_vnet_hdr_read(const uint8_t *buf, struct jv_vnet_hdr *h);

/* One segment: an IP packet of len bytes (in scratch, valid during the
 * call). */
typedef void (*jv_gso_cb)(void *ctx, const uint8_t *pkt, size_t len);

/*
 * The IP packet pkt (len bytes, read after h) as the segments it stands
 * for, each passed to cb in order; pkt itself when it needs no split (its
 * partial checksum completed first: pkt is written to). scratch (cap
 * bytes, at least the largest segment) holds a segment at a time.
 * Returns the number of packets passed to cb, or JV_ERR_INVAL when h does
 * not fit pkt (offsets past its end, a GSO type its IP version cannot
 * carry, a segment larger than scratch): nothing is passed then.
 */
int jv_gso_split(const struct jv_vnet_hdr *h, uint8_t *pkt, size_t len,
		 uint8_t *scratch, size_t cap, jv_gso_cb cb, void *ctx);

/* The Internet checksum (RFC 1071) of buf, added to sum (not folded):
 * for callers that checksum in pieces; jv_csum_fold finishes it. */
uint64_t jv_csum_add(uint64_t sum, const uint8_t *buf, size_t len);
uint16_t jv_csum_fold(uint64_t sum);

#endif
