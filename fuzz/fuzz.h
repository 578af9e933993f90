/* Shared by the fuzz targets (docs/FUZZING.md): the libFuzzer entry point
 * every target defines, and the endpoint harness (fuzz/ep.c) the endpoint
 * targets and the seed generator drive. */
#ifndef JV_FUZZ_H
#define JV_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/endpoint.h"
#include "tests/world/world_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the endpoint harness ----
 *
 * The test world (tests/world/world_core.h: fixed keys from a fixed
 * generator, policy defaults), with the client's transports "udp-a" over
 * UDP and "tcp-b" over TCP, a server of 4 sessions, and queues that keep
 * the first MAXQ datagrams and count the rest, on a clock the input
 * drives. An input is a
 * sequence of records, each led by one byte:
 *
 *   bits 0-1  path: on the server the source address (addr[0]), on the
 *             client the transport index (2 and 3 do not exist)
 *   bit 2     the path's protocol: 0 UDP, 1 TCP
 *   bits 3-5  time: now advances by this many FZ_TICK_MS first
 *   bits 6-7  what: 0 a datagram follows: length (2 bytes, little-endian,
 *             cut to what is left) then its bytes; 1 the clock only;
 *             2 client: transport `path` goes down (link_down), server:
 *             the operator terminates every session; 3 client: transport
 *             `path` comes back up, server: the clock only.
 *
 * Before each record the target endpoint runs its due timers; then the
 * record is applied and the property below checked. */
#define FZ_TICK_MS 250u
#define FZ_MAX_RECORDS 64
#define FZ_DGRAM_MAX 2048
#define FZ_HDR(path, tcp, adv, what) \
	((uint8_t)((path) | ((tcp) ? 4 : 0) | ((adv) << 3) | ((what) << 6)))

/* Builds the pair at now = 0; nothing sent yet. Aborts on failure. */
void fz_world_init(struct world *w);
/* The client's first handshake, delivered both ways on transport 0:
 * both ends ATTACHED (aborts otherwise); queues emptied. */
void fz_handshake(struct world *w);
/* The start states of the endpoint and ctl targets: a world built
 * (fz_world_init), after the client's first handshake (fz_handshake), or
 * the client started, its HS_INIT sent and lost (BIRTH). */
enum fz_start { FZ_START_FRESH, FZ_START_ATTACHED, FZ_START_BIRTH,
		FZ_START__COUNT };
/* The world in that state for one input, and back after it: built and
 * freed per input in the replay programs, built once and restored in the
 * libFuzzer programs (fuzz/snapshot.c). */
struct world *fz_world_get(enum fz_start start);
void fz_world_put(struct world *w, const uint8_t *data, size_t size);
/* Applies the record at *p (of *left bytes) to n, with the property
 * check; advances *p. Returns false when no record is left. */
bool fz_record(struct world *w, struct node *n, const uint8_t **p,
	       size_t *left);
/* All records of an input (at most FZ_MAX_RECORDS). */
void fz_records(struct world *w, struct node *n, const uint8_t *data,
		size_t size);

#endif
