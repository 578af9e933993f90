/* The server after a real handshake with the harness's client: records
 * (fuzz.h) reach the data, control and reattach paths; the seeds are the
 * client's genuine sealed packets. */
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world *w = fz_world_get(FZ_START_ATTACHED);

	fz_records(w, &w->s, data, size);
	fz_world_put(w, data, size);
	return 0;
}
