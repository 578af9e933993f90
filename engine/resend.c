/* The re-send store (issue 11 item 4, lossless switch): copies of the DATA
 * datagrams an endpoint sent, as they went on the wire (sealed: header,
 * counter and epoch included), in one byte ring per endpoint shared by
 * all its sessions. After a reattach the copies of the packets that may
 * have gone into the dead path are sent again on the new one; the
 * receiver's replay window drops those it already had, the inner TCP
 * whatever is left.
 *
 * Why sealed copies and one ring: a copy costs no key and no seal on the
 * re-send, its counter is the one the receiver may already have seen (so a
 * duplicate never reaches the TUN), and a ring shared by all sessions,
 * taken at the first copy kept, costs an idle session nothing (the 1 KiB
 * per idle session of docs/PERFORMANCE.md). The ring evicts its oldest
 * records first; a session's re-send takes at most resend_max_bytes of
 * its newest copies.
 *
 * A record is a 24-byte header and the datagram, padded to 8 bytes, never
 * split at the end of the buffer: a pad record (or fewer than 16 bytes
 * left) sends the reader back to the start. Positions grow without bound
 * (64 bits); the buffer offset is position % cap. */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define REC_HDR 24u
#define REC_LIVE 1u
#define REC_PAD 2u
/* The server's ring when the policy is on: resend_max_bytes for each
 * session slot, but no more than this (at least one session's worth). */
#define POOL_MAX (16u << 20)

struct rec {
	uint32_t owner;          /* the session's local index */
	uint16_t len;            /* of the datagram */
	uint8_t flags;           /* REC_* (0: dropped) */
	uint8_t tr;              /* client: the transport it went on */
	uint32_t back;           /* to the record before (0: none): a re-send
				  * walks back from the newest, not the whole
				  * ring (16 MiB: 13 ms a reattach) */
	uint32_t unused;
	uint64_t sent_ms;
};
_Static_assert(sizeof(struct rec) == REC_HDR, "record header");

static size_t rec_size(size_t len)
{
	return REC_HDR + ((len + 7) & ~(size_t)7);
}

/* The ring's size for this endpoint and policy (0: off). */
static size_t ring_cap(const struct jv_endpoint *ep)
{
	uint64_t per = ep->policy.resend_max_bytes, cap = per;

	if (ep->cfg.role == JV_ROLE_SERVER) {
		cap = ep->cfg.resend_pool_bytes;
		if (!cap) {
			cap = per * (ep->cfg.max_sessions ? ep->cfg.max_sessions
							  : 1);
			if (cap > POOL_MAX)
				cap = POOL_MAX;
		}
		if (cap < per)
			cap = per;
	}
	if (!per)
		return 0;
	return (size_t)(cap & ~(uint64_t)7);
}

static struct rec *rec_at(const struct jv_resend *r, uint64_t pos)
{
	return (struct rec *)(void *)(r->buf + pos % r->cap);
}

/* Whether pos is where the buffer wraps (a pad, or no room for a header):
 * the next record is at the start. */
static bool at_wrap(const struct jv_resend *r, uint64_t pos)
{
	size_t off = pos % r->cap;

	return r->cap - off < REC_HDR || rec_at(r, pos)->flags == REC_PAD;
}

static uint64_t next_pos(const struct jv_resend *r, uint64_t pos)
{
	if (at_wrap(r, pos))
		return pos + (r->cap - pos % r->cap);
	return pos + rec_size(rec_at(r, pos)->len);
}

static void evict_oldest(struct jv_resend *r)
{
	if (!at_wrap(r, r->head)) {
		struct rec *h = rec_at(r, r->head);

		if (h->flags == REC_LIVE) {
			r->live -= rec_size(h->len);
			r->nlive--;
		}
	}
	r->head = next_pos(r, r->head);
}

void jv_resend_free(struct jv_endpoint *ep)
{
	struct jv_resend *r = &ep->resend;

	free(r->buf);
	memset(r, 0, sizeof(*r));
}

void jv_resend_policy_changed(struct jv_endpoint *ep)
{
	if (ep->resend.buf && ep->resend.cap != ring_cap(ep))
		jv_resend_free(ep);
}

void jv_resend_keep(struct jv_endpoint *ep, uint32_t owner, uint8_t tr,
		    const uint8_t *dg, size_t len, uint64_t now)
{
	struct jv_resend *r = &ep->resend;
	size_t cap = ring_cap(ep), need = rec_size(len), off, pad;
	struct rec *h;

	/* a datagram larger than a session's share would only evict */
	if (!cap || need > ep->policy.resend_max_bytes || need > cap)
		return;
	if (!r->buf) {
		r->buf = malloc(cap);
		if (!r->buf)
			return;      /* best effort: nothing kept */
		r->cap = cap;
		r->head = r->tail = 0;
	}
	if (r->head == r->tail)
		r->head = r->tail = 0;
	off = r->tail % r->cap;
	pad = off + need > r->cap ? r->cap - off : 0;
	while (r->tail - r->head + pad + need > r->cap) {
		evict_oldest(r);
		if (r->head == r->tail) {
			r->head = r->tail = 0;
			pad = 0;
			break;
		}
	}
	if (pad) {
		if (pad >= REC_HDR) {
			h = rec_at(r, r->tail);
			memset(h, 0, sizeof(*h));
			h->flags = REC_PAD;
		}
		r->tail += pad;
	}
	h = rec_at(r, r->tail);
	h->owner = owner;
	h->len = (uint16_t)len;
	h->flags = REC_LIVE;
	h->tr = tr;
	h->back = r->tail > r->head ? (uint32_t)(r->tail - r->last) : 0;
	h->unused = 0;
	h->sent_ms = now;
	memcpy((uint8_t *)h + REC_HDR, dg, len);
	r->last = r->tail;
	r->tail += need;
	r->live += need;
	r->nlive++;
}

void jv_resend_drop(struct jv_endpoint *ep, uint32_t owner)
{
	struct jv_resend *r = &ep->resend;

	if (!r->buf)
		return;
	for (uint64_t pos = r->head; pos < r->tail; pos = next_pos(r, pos)) {
		struct rec *h;

		if (at_wrap(r, pos))
			continue;
		h = rec_at(r, pos);
		if (h->flags != REC_LIVE || h->owner != owner)
			continue;
		h->flags = 0;
		r->live -= rec_size(h->len);
		r->nlive--;
	}
	if (!r->nlive && ep->cfg.role == JV_ROLE_CLIENT)
		jv_resend_free(ep);   /* the client's one session ended */
}

uint64_t jv_resend_held(const struct jv_endpoint *ep, uint32_t owner,
			uint32_t *n)
{
	const struct jv_resend *r = &ep->resend;
	uint64_t bytes = 0;

	if (n)
		*n = 0;
	if (!r->buf)
		return 0;
	for (uint64_t pos = r->head; pos < r->tail; pos = next_pos(r, pos)) {
		const struct rec *h;

		if (at_wrap(r, pos))
			continue;
		h = rec_at(r, pos);
		if (h->flags != REC_LIVE || h->owner != owner)
			continue;
		bytes += rec_size(h->len);
		if (n)
			(*n)++;
	}
	return bytes;
}

/* Whether the copy at h is one sel asks for and the peer can still take:
 * its epoch the current one (or the one before, while the peer keeps
 * that key), its counter inside the peer's replay window. */
static bool wanted(const struct rec *h, const struct jv_resend_sel *sel)
{
	const uint8_t *dg = (const uint8_t *)h + REC_HDR;
	struct jv_hdr hd;
	uint16_t behind;

	if (h->flags != REC_LIVE || h->owner != sel->owner ||
	    (sel->skip_tr != JV_RESEND_NO_TR && h->tr == sel->skip_tr) ||
	    h->sent_ms < sel->since_ms ||
	    jv_hdr_decode(&hd, dg, h->len) != 0)
		return false;
	behind = (uint16_t)(sel->epoch - hd.epoch);
	if (behind > 1 || (behind == 1 && !sel->prev_epoch_ok))
		return false;
	return hd.counter < sel->tx_counter &&
	       sel->tx_counter - hd.counter <= sel->window;
}

/* The oldest position a re-send starts from, walking back from the
 * newest copy: copies are kept in the order sent, so the walk ends at the
 * first one older than since_ms, or once the newest wanted copies fill
 * max_bytes. r->tail when nothing is wanted. */
static uint64_t resend_start(struct jv_resend *r,
			     const struct jv_resend_sel *sel)
{
	uint64_t pos = r->last, start = r->tail, total = 0;

	r->walked = 0;
	if (r->head >= r->tail)
		return r->tail;
	for (;;) {
		const struct rec *h = rec_at(r, pos);

		r->walked++;
		if (h->sent_ms < sel->since_ms)
			break;
		if (wanted(h, sel)) {
			if (total + rec_size(h->len) > sel->max_bytes)
				break;
			total += rec_size(h->len);
			start = pos;
		}
		if (!h->back || pos - r->head < h->back)
			break;
		pos -= h->back;
	}
	return start;
}

void jv_resend_run(struct jv_endpoint *ep, const struct jv_resend_sel *sel,
		   const struct jv_path *path, uint32_t *pkts, uint64_t *bytes)
{
	struct jv_resend *r = &ep->resend;

	*pkts = 0;
	*bytes = 0;
	if (!r->buf)
		return;
	/* the newest within the bound, oldest first */
	for (uint64_t pos = resend_start(r, sel); pos < r->tail;
	     pos = next_pos(r, pos)) {
		const struct rec *h;

		if (at_wrap(r, pos) || !wanted(rec_at(r, pos), sel))
			continue;
		h = rec_at(r, pos);
		(*pkts)++;
		*bytes += h->len;
		if (path)
			jv_send_raw(ep, path, (const uint8_t *)h + REC_HDR,
				    h->len);
	}
	if (path) {
		ep->stats.resent_packets += *pkts;
		ep->stats.resent_bytes += *bytes;
	}
}

void jv_resend_sel_init(const struct jv_endpoint *ep,
			const struct jv_session *s, uint64_t since_ms,
			uint64_t now, struct jv_resend_sel *sel)
{
	const struct jv_policy *p = &ep->policy;

	memset(sel, 0, sizeof(*sel));
	sel->owner = s->local_index;
	sel->skip_tr = JV_RESEND_NO_TR;
	sel->since_ms = since_ms;
	sel->epoch = s->keys.tx_epoch;
	/* The peer keeps the key of the epoch before for its
	 * heartbeat_volatile_ms after it first saw ours, which was no earlier
	 * than our rotation: half of that leaves room for the trip. A copy
	 * it cannot open any more is not sent (it would only count as late). */
	sel->prev_epoch_ok = s->keys.tx_epoch > 0 &&
			     now - s->last_rekey_ms < p->heartbeat_volatile_ms / 2;
	sel->tx_counter = s->keys.tx_counter;
	sel->window = p->replay_window_size;
	sel->max_bytes = p->resend_max_bytes;
}
