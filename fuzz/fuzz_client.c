/* The client: the first byte's low bit chooses where it starts, 0 in
 * BIRTH (its HS_INIT sent, the answer not yet come), 1 ATTACHED after a
 * real handshake; then records (fuzz.h) from the server's side, the
 * seeds being the server's genuine packets. */
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world *w;

	if (size == 0)
		return 0;
	w = fz_world_get(data[0] & 1 ? FZ_START_ATTACHED : FZ_START_BIRTH);
	fz_records(w, &w->c, data + 1, size - 1);
	fz_world_put(w, data, size);
	return 0;
}
