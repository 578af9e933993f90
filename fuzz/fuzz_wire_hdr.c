/* jv_wire_type and the data/control header (jv_hdr_decode). What decodes
 * encodes again to the same 16 bytes: the header is the AEAD's AD. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_hdr h, h2;
	uint8_t out[JV_HDR_LEN + JV_TAG_LEN] = { 0 };
	int t = jv_wire_type(data, size);

	/* 0 or a message type whose length is right: COOKIE_REPLY (5) too,
	 * which came after this target (a 64-byte input starting with 5 was
	 * taken for a wrong answer) */
	if (t < 0 || t > JV_MSG_COOKIE_REPLY ||
	    (t == JV_MSG_COOKIE_REPLY && size != JV_COOKIE_REPLY_LEN))
		abort();
	if (jv_hdr_decode(&h, data, size) != 0)
		return 0;
	if (size < JV_HDR_LEN || jv_hdr_encode(&h, out) != JV_HDR_LEN ||
	    memcmp(out, data, JV_HDR_LEN) != 0)
		abort();
	if (jv_hdr_decode(&h2, out, sizeof(out)) != 0 || h2.type != h.type ||
	    h2.subtype != h.subtype || h2.epoch != h.epoch ||
	    h2.receiver_index != h.receiver_index || h2.counter != h.counter)
		abort();
	return 0;
}
