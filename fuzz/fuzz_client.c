/* The client: the first byte's low bit chooses where it starts, 0 in
 * BIRTH (its HS_INIT sent, the answer not yet come), 1 ATTACHED after a
 * real handshake; then records (fuzz.h) from the server's side, the
 * seeds being the server's genuine packets. */
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;

	if (size == 0)
		return 0;
	fz_world_init(&w);
	if (data[0] & 1) {
		fz_handshake(&w);
	} else {
		jv_endpoint_start(w.c.ep, 0);
		w.c.nout = 0;
	}
	fz_records(&w, &w.c, data + 1, size - 1);
	world_fini(&w);
	return 0;
}
