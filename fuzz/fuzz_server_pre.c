/* The server before any handshake: hostile datagrams from anywhere,
 * records as fuzz.h describes; the genuine HS_INIT seeds reach a session. */
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;

	fz_world_init(&w);
	fz_records(&w, &w.s, data, size);
	world_fini(&w);
	return 0;
}
