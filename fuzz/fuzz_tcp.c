/* The TCP stream decoder (jv_tcp_frames) as jv_tcp_read drives it: the
 * stream (the input after its first byte) arrives in chunks of a size
 * the first byte picks, into the connection's bounded buffer. Property:
 * the frames delivered, and the error, are the same as when the whole
 * stream is decoded at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "io/tcp.h"

struct digest {
	uint64_t h, frames;
};

static void on_frame(void *ctx, uint8_t *buf, size_t len)
{
	struct digest *d = ctx;

	if (len == 0 || len > JV_WIRE_MAX)
		abort();
	d->h = (d->h ^ len) * 0x100000001b3ull;
	for (size_t i = 0; i < len; i++)
		d->h = (d->h ^ buf[i]) * 0x100000001b3ull;
	d->frames++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rx[JV_TCP_RXBUF];
	struct digest one = { 0xcbf29ce484222325ull, 0 }, chunked = one;
	size_t chunk, used = 0, frames = 0, rxlen = 0, off = 0;
	uint8_t *all;
	int err1, err2 = 0;

	if (size < 1)
		return 0;
	chunk = 1 + (size_t)data[0] * 13;
	data++;
	size--;
	all = malloc(size ? size : 1);
	if (!all)
		abort();
	memcpy(all, data, size);
	err1 = jv_tcp_frames(all, size, &used, &frames, on_frame, &one);
	if (used > size || frames != one.frames || (err1 && err1 != -EPROTO))
		abort();
	free(all);

	frames = 0;
	while (off < size) {
		size_t n = size - off, room = sizeof(rx) - rxlen;

		if (n > chunk)
			n = chunk;
		if (n > room)
			n = room;
		if (n == 0)
			abort();        /* a frame never fills the buffer */
		memcpy(rx + rxlen, data + off, n);
		off += n;
		rxlen += n;
		err2 = jv_tcp_frames(rx, rxlen, &used, &frames, on_frame,
				     &chunked);
		if (err2)
			break;
		memmove(rx, rx + used, rxlen - used);
		rxlen -= used;
		if (rxlen >= JV_TCP_FRAME_MAX)
			abort();
	}
	if (err1 != err2 || one.frames != chunked.frames || one.h != chunked.h)
		abort();
	return 0;
}
