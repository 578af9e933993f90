#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int jv_error_set(struct jv_error *err, int code, const char *file, int line,
		 const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "-");
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void jv_error_format(const struct jv_error *err, char *buf, size_t cap)
{
	if (err->line > 0)
		snprintf(buf, cap, "%s:%d: %s", err->file, err->line, err->msg);
	else
		snprintf(buf, cap, "%s: %s", err->file, err->msg);
}
