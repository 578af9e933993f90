/* Error codes and the error report every loader fills in. */
#ifndef JV_ERR_H
#define JV_ERR_H

#include <stddef.h>

enum jv_errno {
	JV_OK = 0,
	JV_ERR_INVAL = -1,     /* bad input: a message says what */
	JV_ERR_RANGE = -2,     /* a value outside its allowed range */
	JV_ERR_NOMEM = -3,
	JV_ERR_FULL = -4,      /* a bounded container is full */
	JV_ERR_NOTFOUND = -5,
	JV_ERR_AUTH = -6,      /* AEAD tag or proof did not verify */
	JV_ERR_REPLAY = -7,
	JV_ERR_SHORT = -8,     /* truncated input or output buffer too small */
	JV_ERR_STATE = -9,     /* operation not valid in the current state */
	JV_ERR_EXISTS = -10,   /* the key is already someone else's */
	JV_ERR_AGAIN = -11,    /* a temporary failure (DNS): try again later */
};

/* Where and what: "FILE:LINE: msg". line 0 means "no line". */
struct jv_error {
	char file[256];
	int line;
	char msg[512];
};

/* Fills err (if non-NULL) and returns code; printf-style message. */
int jv_error_set(struct jv_error *err, int code, const char *file, int line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Formats "FILE:LINE: msg" (or "FILE: msg" when line is 0) into buf. */
void jv_error_format(const struct jv_error *err, char *buf, size_t cap);

#endif
