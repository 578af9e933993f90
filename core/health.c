/* Transport health. Probes live in a fixed ring of slots; settled ones stay
 * as history for the loss window until their slot is needed again. */
#include "core/health.h"

#include <string.h>

enum { FREE, PENDING, ACKED, LOST };

void jv_health_init(struct jv_health *h)
{
	memset(h, 0, sizeof(*h));
}

/* Is a older than b? Send time first; equal times fall back to serial
 * order of seq (RFC 1982), so a burst in one millisecond is still reused
 * oldest first. */
static bool older(const struct jv_health_probe *a,
		  const struct jv_health_probe *b)
{
	if (a->sent_ms != b->sent_ms)
		return a->sent_ms < b->sent_ms;
	return (int32_t)(a->seq - b->seq) < 0;
}

static void mark_lost(struct jv_health *h, struct jv_health_probe *pr)
{
	pr->status = LOST;
	h->consecutive_drops++;
}

void jv_health_on_sent(struct jv_health *h, uint32_t seq, uint64_t now)
{
	struct jv_health_probe *slot = NULL;

	for (int i = 0; i < JV_HEALTH_SLOTS; i++) {
		struct jv_health_probe *pr = &h->probes[i];

		/* a pending probe with the same seq is sent again: its ack
		 * could not be told apart, so it restarts in place */
		if (pr->status == PENDING && pr->seq == seq) {
			slot = pr;
			break;
		}
		if (pr->status == FREE) {
			if (!slot || slot->status != FREE)
				slot = pr;
		} else if (!slot || (slot->status != FREE && older(pr, slot))) {
			slot = pr;
		}
	}
	if (slot->status == PENDING && slot->seq != seq)
		mark_lost(h, slot);   /* evicted unanswered: it was lost */
	slot->seq = seq;
	slot->sent_ms = now;
	slot->status = PENDING;
}

static void rtt_sample(struct jv_health *h, uint32_t rtt)
{
	/* RFC 6298 2.2/2.3 with alpha = 1/8, rounded to the nearest ms:
	 * truncating would let srtt stick up to 7 ms below a steady RTT.
	 * A sample under a millisecond (a LAN, veth) counts as 1, so srtt 0
	 * keeps meaning "no sample": read as unknown, it ranked a LAN path
	 * after every other (core/select.c). */
	if (rtt == 0)
		rtt = 1;
	if (h->rtt_count == 0)
		h->srtt_ms = rtt;
	else
		h->srtt_ms = (uint32_t)((7ull * h->srtt_ms + rtt + 4) / 8);
	h->rtt_ring[h->rtt_count % JV_HEALTH_RTT_SAMPLES] = rtt;
	h->rtt_count++;
}

int64_t jv_health_on_ack(struct jv_health *h, uint32_t seq, uint64_t now)
{
	for (int i = 0; i < JV_HEALTH_SLOTS; i++) {
		struct jv_health_probe *pr = &h->probes[i];
		uint64_t rtt;

		if (pr->status != PENDING || pr->seq != seq)
			continue;
		rtt = now > pr->sent_ms ? now - pr->sent_ms : 0;
		if (rtt > UINT32_MAX)
			rtt = UINT32_MAX;
		pr->status = ACKED;
		h->consecutive_drops = 0;
		rtt_sample(h, (uint32_t)rtt);
		return (int64_t)rtt;
	}
	return -1;
}

void jv_health_on_rx(struct jv_health *h, uint64_t now)
{
	h->last_rx_ms = now;
	h->has_rx = true;
}

int jv_health_expire(struct jv_health *h, uint64_t now, uint64_t timeout_ms)
{
	int n = 0;

	if (now < timeout_ms)
		return 0;
	for (int i = 0; i < JV_HEALTH_SLOTS; i++) {
		struct jv_health_probe *pr = &h->probes[i];

		if (pr->status == PENDING && pr->sent_ms <= now - timeout_ms) {
			mark_lost(h, pr);
			n++;
		}
	}
	return n;
}

/* A sample of the loss ratio at now: a probe settled (acked or lost) and
 * sent in (now - window, now]. */
static bool is_sample(const struct jv_health_probe *pr, uint64_t now,
		      uint64_t window_ms)
{
	return (pr->status == ACKED || pr->status == LOST) &&
	       pr->sent_ms <= now && now - pr->sent_ms < window_ms;
}

double jv_health_loss(const struct jv_health *h, uint64_t now,
		      uint64_t window_ms, uint32_t *samples)
{
	uint32_t settled = 0, lost = 0;

	for (int i = 0; i < JV_HEALTH_SLOTS; i++) {
		const struct jv_health_probe *pr = &h->probes[i];

		if (!is_sample(pr, now, window_ms))
			continue;
		settled++;
		lost += pr->status == LOST;
	}
	if (samples)
		*samples = settled;
	return settled ? (double)lost / settled : 0.0;
}

uint64_t jv_health_loss_ages_at(const struct jv_health *h, uint64_t now,
				uint64_t window_ms)
{
	uint64_t at = UINT64_MAX;

	for (int i = 0; i < JV_HEALTH_SLOTS; i++) {
		const struct jv_health_probe *pr = &h->probes[i];

		if (!is_sample(pr, now, window_ms))
			continue;
		if (pr->sent_ms + window_ms < at)
			at = pr->sent_ms + window_ms;
	}
	return at;
}

uint32_t jv_health_rtt_p95(const struct jv_health *h)
{
	uint32_t v[JV_HEALTH_RTT_SAMPLES];
	uint32_t n = h->rtt_count < JV_HEALTH_RTT_SAMPLES
			     ? h->rtt_count : JV_HEALTH_RTT_SAMPLES;

	if (n == 0)
		return 0;
	memcpy(v, h->rtt_ring, n * sizeof(v[0]));
	for (uint32_t i = 1; i < n; i++) {   /* insertion sort: n <= 32 */
		uint32_t x = v[i], j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	/* nearest rank: the ceil(0.95 n)-th smallest */
	return v[(95 * n + 99) / 100 - 1];
}

uint64_t jv_health_rx_age(const struct jv_health *h, uint64_t now)
{
	if (!h->has_rx)
		return UINT64_MAX;
	return now > h->last_rx_ms ? now - h->last_rx_ms : 0;
}

void jv_health_reset_probes(struct jv_health *h)
{
	/* the RTT estimate stays: it still describes the path */
	memset(h->probes, 0, sizeof(h->probes));
	h->consecutive_drops = 0;
}

void jv_health_forget_losses(struct jv_health *h)
{
	for (int i = 0; i < JV_HEALTH_SLOTS; i++)
		if (h->probes[i].status == 3)
			memset(&h->probes[i], 0, sizeof(h->probes[i]));
	h->consecutive_drops = 0;
}
