/* The server before any handshake: hostile datagrams from anywhere,
 * records as fuzz.h describes; the genuine HS_INIT seeds reach a session. */
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world *w = fz_world_get(FZ_START_FRESH);

	fz_records(w, &w->s, data, size);
	fz_world_put(w, data, size);
	return 0;
}
