/* Cryptokey routing (CONTRACT section 8): which peer an inner address
 * belongs to, as WireGuard's allowedips.c. A path-compressed binary trie
 * per address family maps prefixes to peer indexes; the longest prefix
 * holding an address names its peer. Built once from the configuration
 * (all memory taken then, at most two nodes a prefix); a lookup walks at
 * most one node per bit of the address and allocates nothing. */
#ifndef JV_ALLOWEDIPS_H
#define JV_ALLOWEDIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jv_ip_family {
	JV_IP4 = 0,      /* zero: what IPv4-only code leaves in a prefix */
	JV_IP6 = 1,
};

/* A network prefix of either family. IPv4 keeps the host-order addr it
 * always had, so `{ .addr = 0x0a4d0002, .prefix = 32 }` is still an IPv4
 * prefix; IPv6 is addr6, network order. Host bits are zero. */
struct jv_prefix {
	union {
		uint32_t addr;           /* JV_IP4, host order */
		uint8_t addr6[16];       /* JV_IP6, network order */
	};
	uint8_t prefix;              /* 0..32 (IPv4), 0..128 (IPv6) */
	uint8_t family;              /* enum jv_ip_family */
};

/* Bits of an address of family (32 or 128; 0 for an unknown family). */
unsigned jv_ip_bits(uint8_t family);

/* The prefix's address as network-order bytes (4 or 16) into out[16]. */
void jv_prefix_bytes(const struct jv_prefix *p, uint8_t out[16]);

/* Whether p holds addr (network order, 4 or 16 bytes as family says). */
bool jv_prefix_match(const struct jv_prefix *p, uint8_t family,
		     const uint8_t *addr);

/* Whether p is well formed: a known family, a length within its bits, no
 * host bits set. */
bool jv_prefix_valid(const struct jv_prefix *p);

/* The source (dst false) or destination address of an inner IP packet:
 * its family and a pointer into pkt. False if pkt is not a complete
 * enough IPv4 (20 bytes) or IPv6 (40 bytes) header. */
bool jv_ip_packet_addr(const uint8_t *pkt, size_t len, bool dst,
		       uint8_t *family, const uint8_t **addr);

/* Whether pkt is IPv6 chatter of the link it was sent on: a source that
 * is unspecified (::) or link-local (fe80::/10), or a destination that is
 * link-local or multicast of interface or link scope (ff01::/16,
 * ff02::/16). A TUN with IPv6 enabled sends such packets on its own
 * (router solicitations, MLD reports); they mean nothing beyond the link,
 * so the endpoint drops them quietly rather than as spoofed sources when
 * no prefix holds them. IPv4 packets: false. */
bool jv_ip_packet_link_scoped(const uint8_t *pkt, size_t len);

#define JV_AIP_NONE (-1)

struct jv_aip;

/* An empty table for up to max prefixes, both families together.
 * Returns 0 or JV_ERR_NOMEM. */
int jv_aip_new(uint32_t max, struct jv_aip **out);
void jv_aip_free(struct jv_aip *t);

/* Adds p for peer (0..INT32_MAX). Returns 0; JV_ERR_INVAL when p is not
 * valid (jv_prefix_valid) or peer too large; JV_ERR_EXISTS when the same
 * prefix (address and length) is another peer's: an equal prefix routes
 * to no one in particular, so it is refused rather than moved; JV_ERR_FULL
 * past max. The same prefix again for the same peer changes nothing.
 * Nested prefixes of different peers are fine: the longest wins. */
int jv_aip_insert(struct jv_aip *t, const struct jv_prefix *p, uint32_t peer);

/* The peer whose prefix is the longest holding addr (network order, 4 or
 * 16 bytes by family), or JV_AIP_NONE. */
int32_t jv_aip_lookup(const struct jv_aip *t, uint8_t family,
		      const uint8_t *addr);

/* The inbound source check: whether addr belongs to peer, i.e. a packet
 * to addr would be routed to peer. This is stricter than "addr lies in
 * one of peer's prefixes": where another peer holds a longer prefix for
 * addr (a subnet carved out of a wider one), the address is that peer's,
 * and the wider peer may not send from it (WireGuard's rule too). */
bool jv_aip_owns(const struct jv_aip *t, uint32_t peer, uint8_t family,
		 const uint8_t *addr);

/* Prefixes inserted (distinct ones) and trie nodes in use. */
uint32_t jv_aip_count(const struct jv_aip *t);
uint32_t jv_aip_nodes(const struct jv_aip *t);

#endif
