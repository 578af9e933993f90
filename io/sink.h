/* The audit sink: event lines appended to a file (or stdout), reopened on
 * SIGHUP so logrotate can move the file away. */
#ifndef JV_IO_SINK_H
#define JV_IO_SINK_H

#include <stddef.h>

#include "core/err.h"

struct jv_sink {
	char path[256];          /* "-" = stdout */
	int fd;
	unsigned long long lost; /* lines that could not be written */
};

int jv_sink_open(struct jv_sink *s, const char *path, struct jv_error *err);
/* Reopens the file (after a rotation); keeps the old fd on failure. */
int jv_sink_reopen(struct jv_sink *s, struct jv_error *err);
/* Writes line and a newline in one write. */
void jv_sink_write(struct jv_sink *s, const char *line, size_t len);
void jv_sink_close(struct jv_sink *s);

#endif
