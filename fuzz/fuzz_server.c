/* The server after a real handshake with the harness's client: records
 * (fuzz.h) reach the data, control and reattach paths; the seeds are the
 * client's genuine sealed packets. */
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;

	fz_world_init(&w);
	fz_handshake(&w);
	fz_records(&w, &w.s, data, size);
	world_fini(&w);
	return 0;
}
