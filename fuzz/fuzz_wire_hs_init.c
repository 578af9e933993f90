/* The HS_INIT payload (jv_hs_init_payload_decode): an accepted payload
 * has a valid transport id, and encodes to the very bytes it came from
 * (the encoding is canonical: the id's padding is zero). */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_hs_init_payload p, p2;
	uint8_t out[JV_HS_INIT_PAYLOAD], out2[JV_HS_INIT_PAYLOAD];
	struct jv_wire_tid t;

	if (jv_hs_init_payload_decode(&p, data, size) != 0)
		return 0;
	if (p.tid.len == 0 || p.tid.len > JV_TID_MAX ||
	    strlen(p.tid.id) != p.tid.len ||
	    jv_wire_tid_set(&t, p.tid.proto, p.tid.id) != 0)
		abort();
	if (jv_hs_init_payload_encode(&p, out) != JV_HS_INIT_PAYLOAD ||
	    memcmp(out, data, sizeof(out)) != 0 ||
	    jv_hs_init_payload_decode(&p2, out, sizeof(out)) != 0 ||
	    jv_hs_init_payload_encode(&p2, out2) != JV_HS_INIT_PAYLOAD ||
	    memcmp(out, out2, sizeof(out)) != 0)
		abort();
	return 0;
}
