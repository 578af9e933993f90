/* epoll + one timerfd. Callbacks are looked up by descriptor in a small
 * table, so a descriptor removed during a round is never called again in
 * that round. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "io/loop.h"

#define MAX_FDS 64
#define BATCH 32

struct watch {
	int fd;                  /* -1: free */
	jv_io_cb cb;
	void *ctx;
};

struct jv_loop {
	int ep, tfd;
	bool stop;
	struct watch w[MAX_FDS];
	void (*on_timer)(void *);
	void *timer_ctx;
	uint64_t timer_at;
};

uint64_t jv_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t jv_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_timerfd(void *ctx, uint32_t events)
{
	struct jv_loop *l = ctx;
	uint64_t n;

	(void)events;
	if (read(l->tfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	l->timer_at = UINT64_MAX;
	if (l->on_timer)
		l->on_timer(l->timer_ctx);
}

int jv_loop_new(struct jv_loop **out)
{
	struct jv_loop *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return -ENOMEM;
	for (int i = 0; i < MAX_FDS; i++)
		l->w[i].fd = -1;
	l->timer_at = UINT64_MAX;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->ep < 0 || l->tfd < 0 ||
	    jv_loop_add(l, l->tfd, EPOLLIN, on_timerfd, l) != 0) {
		int e = -errno;

		jv_loop_free(l);
		return e ? e : -EINVAL;
	}
	*out = l;
	return 0;
}

void jv_loop_free(struct jv_loop *l)
{
	if (!l)
		return;
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->ep >= 0)
		close(l->ep);
	free(l);
}

static struct watch *find(struct jv_loop *l, int fd)
{
	for (int i = 0; i < MAX_FDS; i++)
		if (l->w[i].fd == fd)
			return &l->w[i];
	return NULL;
}

int jv_loop_add(struct jv_loop *l, int fd, uint32_t events, jv_io_cb cb,
		void *ctx)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	struct watch *w;

	if (fd < 0 || find(l, fd) || !(w = find(l, -1)))
		return -EINVAL;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -errno;
	w->fd = fd;
	w->cb = cb;
	w->ctx = ctx;
	return 0;
}

int jv_loop_mod(struct jv_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
}

void jv_loop_del(struct jv_loop *l, int fd)
{
	struct watch *w = find(l, fd);

	if (!w)
		return;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	w->fd = -1;
}

void jv_loop_set_timer(struct jv_loop *l, uint64_t at_ms)
{
	struct itimerspec its = { 0 };

	if (at_ms == l->timer_at)
		return;
	l->timer_at = at_ms;
	if (at_ms != UINT64_MAX) {
		/* 0 would disarm: a deadline already past fires at once */
		if (at_ms == 0)
			at_ms = 1;
		its.it_value.tv_sec = (time_t)(at_ms / 1000);
		its.it_value.tv_nsec = (long)(at_ms % 1000) * 1000000;
	}
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

void jv_loop_on_timer(struct jv_loop *l, void (*cb)(void *ctx), void *ctx)
{
	l->on_timer = cb;
	l->timer_ctx = ctx;
}

int jv_loop_run(struct jv_loop *l)
{
	struct epoll_event ev[BATCH];

	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->ep, ev, BATCH, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			/* looked up again: an earlier callback may have
			 * removed it */
			struct watch *w = find(l, ev[i].data.fd);

			if (w)
				w->cb(w->ctx, ev[i].events);
		}
	}
	return 0;
}

void jv_loop_stop(struct jv_loop *l)
{
	l->stop = true;
}
