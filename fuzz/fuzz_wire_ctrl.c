/* The control bodies (jv_ctrl_decode), every subtype: the first byte is
 * the header's subtype, the rest the decrypted body. The encoding is
 * canonical: an accepted body encodes to the very bytes it came from. */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_ctrl c, c2;
	uint8_t out[JV_CTRL_MAX_BODY], out2[JV_CTRL_MAX_BODY];
	int n, n2;

	if (size < 1)
		return 0;
	if (jv_ctrl_decode(&c, data[0], data + 1, size - 1) != 0)
		return 0;
	if (c.type != data[0] || c.type < 1 || c.type > JV_CTRL__LAST)
		abort();
	n = jv_ctrl_encode(&c, out, sizeof(out));
	if (n < 0 || (size_t)n != size - 1 || memcmp(out, data + 1, size - 1) ||
	    jv_ctrl_decode(&c2, c.type, out, (size_t)n) != 0)
		abort();
	n2 = jv_ctrl_encode(&c2, out2, sizeof(out2));
	if (n2 != n || memcmp(out, out2, (size_t)n) != 0)
		abort();
	return 0;
}
