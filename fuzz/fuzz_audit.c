/* `jvpn audit verify` on hostile JSONL (jv_verify_line per line, each a
 * buffer of exactly its length, then jv_verify_finish). The first byte
 * is the allowed switches per minute. */
#include <stdlib.h>
#include <string.h>

#include "cli/verify.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jv_verify *v;
	struct jv_error err;
	size_t off = 1;
	int lineno = 0, rc = 0;

	if (size < 1)
		return 0;
	v = jv_verify_new(data[0] % 16);
	if (!v)
		abort();
	while (off < size && rc == 0) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
		char *line = malloc(len ? len : 1);

		if (!line)
			abort();
		memcpy(line, data + off, len);
		off += len + 1;
		rc = jv_verify_line(v, line, len, "fuzz.jsonl", ++lineno, &err);
		free(line);
	}
	if (rc == 0)
		jv_verify_finish(v, &err);
	jv_verify_free(v);
	return 0;
}
