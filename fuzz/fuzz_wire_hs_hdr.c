/* The clear header of HS_INIT and HS_RESP (jv_hs_hdr_decode): what
 * decodes encodes again and decodes to the same fields. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_hs_hdr h, h2;
	static uint8_t out[JV_HS_INIT_LEN + JV_HS_RESP_LEN];
	int n;

	if (jv_hs_hdr_decode(&h, data, size) != 0)
		return 0;
	if (h.type != JV_MSG_HS_INIT && h.type != JV_MSG_HS_RESP)
		abort();
	n = jv_hs_hdr_encode(&h, out, sizeof(out));
	if (n <= 0 || (size_t)n > size)
		abort();
	/* the whole message: the encoded header, then the same Noise bytes */
	memcpy(out + n, data + n, size - (size_t)n);
	if (jv_hs_hdr_decode(&h2, out, size) != 0 || h2.type != h.type ||
	    h2.sender_index != h.sender_index ||
	    h2.receiver_index != h.receiver_index)
		abort();
	return 0;
}
