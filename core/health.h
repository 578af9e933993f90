/* Transport health: turns facts (probe sent, probe acked, packet received)
 * into metrics (loss ratio over a window, consecutive drops, RTT estimate and
 * p95, last-receive age). Pure: the caller passes now_ms. */
#ifndef JV_HEALTH_H
#define JV_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#define JV_HEALTH_SLOTS 64   /* outstanding + recent probes remembered */
#define JV_HEALTH_RTT_SAMPLES 32

struct jv_health_probe {
	uint64_t sent_ms;
	uint32_t seq;
	uint8_t status;          /* 0 free, 1 pending, 2 acked, 3 lost */
};

struct jv_health {
	struct jv_health_probe probes[JV_HEALTH_SLOTS];
	uint32_t rtt_ring[JV_HEALTH_RTT_SAMPLES];
	uint32_t rtt_count;      /* samples ever taken (ring index) */
	uint32_t srtt_ms;        /* RFC 6298 smoothed RTT; 0 = no sample */
	uint32_t consecutive_drops;
	uint64_t last_rx_ms;     /* 0 = never */
	bool has_rx;
};

void jv_health_init(struct jv_health *h);
/* A probe/heartbeat with this sequence number left at now. */
void jv_health_on_sent(struct jv_health *h, uint32_t seq, uint64_t now);
/* Its ack arrived: RTT sample, consecutive drops reset. Unknown or already
 * settled seq is ignored. Returns the RTT sample in ms or -1. */
int64_t jv_health_on_ack(struct jv_health *h, uint32_t seq, uint64_t now);
/* Any authenticated packet arrived on this transport. */
void jv_health_on_rx(struct jv_health *h, uint64_t now);
/* Marks pending probes sent at or before now - timeout_ms as lost (each one
 * increments consecutive_drops). Returns how many were newly lost. */
int jv_health_expire(struct jv_health *h, uint64_t now, uint64_t timeout_ms);
/* Loss ratio among probes sent in (now - window_ms, now] that are settled
 * (acked or lost). *samples gets their count; 0.0 when none. */
double jv_health_loss(const struct jv_health *h, uint64_t now,
		      uint64_t window_ms, uint32_t *samples);
/* When jv_health_loss over window_ms next gives another result by ageing
 * alone: the earliest time after now at which a settled probe sent in
 * (now - window_ms, now] leaves the window (sent_ms + window_ms), or
 * UINT64_MAX if none is in it. Probes settling or being sent change the
 * result too; those are facts the caller sees happen. */
uint64_t jv_health_loss_ages_at(const struct jv_health *h, uint64_t now,
				uint64_t window_ms);
/* 95th percentile of the RTT samples remembered; 0 when none. */
uint32_t jv_health_rtt_p95(const struct jv_health *h);
/* now - last_rx_ms, or UINT64_MAX if nothing was ever received. */
uint64_t jv_health_rx_age(const struct jv_health *h, uint64_t now);
/* Forgets probe history (e.g. after a path comes back); keeps last_rx. */
void jv_health_reset_probes(struct jv_health *h);
/* Forgets the probes known lost and the drop count; probes still pending
 * or answered stay (a path that answers again after an outage). */
void jv_health_forget_losses(struct jv_health *h);

#endif
