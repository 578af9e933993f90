/* Audit sink: O_APPEND writes of whole lines, so concurrent readers (and
 * tail -f) never see half an event. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io/sink.h"

static int open_path(const char *path, struct jv_error *err)
{
	int fd;

	if (strcmp(path, "-") == 0)
		return STDOUT_FILENO;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, path, 0,
				    "cannot open the audit log: %s",
				    strerror(errno));
	return fd;
}

int jv_sink_open(struct jv_sink *s, const char *path, struct jv_error *err)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->fd = open_path(path, err);
	return s->fd < 0 ? s->fd : 0;
}

int jv_sink_reopen(struct jv_sink *s, struct jv_error *err)
{
	int fd;

	if (strcmp(s->path, "-") == 0)
		return 0;
	fd = open_path(s->path, err);
	if (fd < 0)
		return fd;
	close(s->fd);
	s->fd = fd;
	return 0;
}

void jv_sink_write(struct jv_sink *s, const char *line, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)line, .iov_len = len },
		{ .iov_base = (void *)"\n", .iov_len = 1 },
	};
	ssize_t n;

	do
		n = writev(s->fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len + 1)
		s->lost++;
}

void jv_sink_close(struct jv_sink *s)
{
	if (s->fd > STDERR_FILENO)
		close(s->fd);
	s->fd = -1;
}
