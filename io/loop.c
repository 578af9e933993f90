/* epoll + one timerfd. Each registered descriptor has an entry in a table
 * that grows on demand (jv_loop_reserve sizes it up front, so a daemon
 * sized for its bounds never allocates while running). epoll carries the
 * entry's index and generation, not the descriptor: an entry removed
 * during a round is never called again in that round, even when a new
 * descriptor with the same number has taken its place. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "io/loop.h"

/* Events taken from the kernel per epoll_wait; the rest wait for the next
 * round (epoll rotates ready descriptors, so all are served in turn). */
#define BATCH 32
/* Initial table size: the timerfd and a client's handful of sockets. */
#define INITIAL 16
/* Upper bound on the table, a guard against a runaway caller: far more
 * than max_sessions (config bound 2^20) TCP connections could need. */
#define MAX_WATCHES (1u << 21)
/* Descriptor numbers stay below the kernel's nr_open (2^20 by default). */
#define MAX_FD (1 << 24)

struct watch {
	int fd;                  /* -1: free */
	uint32_t gen;            /* bumped on every removal */
	uint32_t next_free;
	bool late;               /* served after the others of its round */
	jv_io_cb cb;
	void *ctx;
};

struct jv_loop {
	int ep, tfd;
	bool stop;
	struct watch *w;
	uint32_t cap, free_head;   /* free list through next_free */
	uint32_t *byfd;                  /* descriptor -> entry, NONE: none */
	uint32_t nbyfd;
	void (*on_timer)(void *);
	void *timer_ctx;
	uint64_t timer_at;
};

#define NONE UINT32_MAX

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

int jv_loop_reserve(struct jv_loop *l, uint32_t n)
{
	struct watch *w;

	if (n <= l->cap)
		return 0;
	if (n > MAX_WATCHES)
		return -ENOSPC;
	w = realloc(l->w, (size_t)n * sizeof(*w));
	if (!w)
		return -ENOMEM;
	/* new entries go on the free list, lowest index first */
	for (uint32_t i = n; i-- > l->cap;) {
		w[i].fd = -1;
		w[i].gen = 0;
		w[i].next_free = l->free_head;
		l->free_head = i;
	}
	l->w = w;
	l->cap = n;
	return 0;
}

int jv_loop_new(struct jv_loop **out)
{
	struct jv_loop *l = calloc(1, sizeof(*l));
	int e;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->free_head = NONE;
	l->timer_at = UINT64_MAX;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->ep < 0 || l->tfd < 0) {
		e = -errno;
		jv_loop_free(l);
		return e ? e : -EINVAL;
	}
	if ((e = jv_loop_reserve(l, INITIAL)) != 0 ||
	    (e = jv_loop_add(l, l->tfd, EPOLLIN, on_timerfd, l)) != 0) {
		jv_loop_free(l);
		return e;
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
	free(l->w);
	free(l->byfd);
	free(l);
}

static struct watch *find(struct jv_loop *l, int fd)
{
	if (fd < 0 || (uint32_t)fd >= l->nbyfd || l->byfd[fd] == NONE)
		return NULL;
	return &l->w[l->byfd[fd]];
}

/* descriptors are small integers (below RLIMIT_NOFILE): a direct map */
static int map_fd(struct jv_loop *l, int fd)
{
	uint32_t n = l->nbyfd ? l->nbyfd : 64, *m;

	if ((uint32_t)fd < l->nbyfd)
		return 0;
	while (n <= (uint32_t)fd)
		n *= 2;
	m = realloc(l->byfd, (size_t)n * sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (uint32_t i = l->nbyfd; i < n; i++)
		m[i] = NONE;
	l->byfd = m;
	l->nbyfd = n;
	return 0;
}

int jv_loop_add(struct jv_loop *l, int fd, uint32_t events, jv_io_cb cb,
		void *ctx)
{
	struct epoll_event ev = { .events = events };
	struct watch *w;
	uint32_t i;
	int e;

	if (fd < 0 || fd > MAX_FD)
		return -EINVAL;
	if (find(l, fd))
		return -EEXIST;
	if ((e = map_fd(l, fd)) != 0)
		return e;
	if (l->free_head == NONE &&
	    (e = jv_loop_reserve(l, l->cap < MAX_WATCHES / 2 ? 2 * l->cap
							      : MAX_WATCHES)) != 0)
		return e;
	if (l->free_head == NONE)
		return -ENOSPC;
	i = l->free_head;
	w = &l->w[i];
	ev.data.u64 = (uint64_t)w->gen << 32 | i;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -errno;
	l->free_head = w->next_free;
	w->fd = fd;
	w->late = false;
	w->cb = cb;
	w->ctx = ctx;
	l->byfd[fd] = i;
	return 0;
}

int jv_loop_set_late(struct jv_loop *l, int fd, bool late)
{
	struct watch *w = find(l, fd);

	if (!w)
		return -ENOENT;
	w->late = late;
	return 0;
}

int jv_loop_mod(struct jv_loop *l, int fd, uint32_t events)
{
	struct watch *w = find(l, fd);
	struct epoll_event ev = { .events = events };

	if (!w)
		return -ENOENT;
	ev.data.u64 = (uint64_t)w->gen << 32 | (uint32_t)(w - l->w);
	return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
}

void jv_loop_del(struct jv_loop *l, int fd)
{
	struct watch *w = find(l, fd);

	if (!w)
		return;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	l->byfd[fd] = NONE;
	w->fd = -1;
	w->gen++;
	w->next_free = l->free_head;
	l->free_head = (uint32_t)(w - l->w);
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
		/* two passes: the late ones after all the others */
		for (int pass = 0; pass < 2; pass++)
			for (int i = 0; i < n && !l->stop; i++) {
				uint32_t idx = (uint32_t)ev[i].data.u64;
				uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
				struct watch *w;

				/* an earlier callback may have removed it, and
				 * the entry may hold another descriptor by now */
				if (idx >= l->cap)
					continue;
				w = &l->w[idx];
				if (w->fd >= 0 && w->gen == gen &&
				    w->late == (pass == 1))
					w->cb(w->ctx, ev[i].events);
			}
	}
	return 0;
}

void jv_loop_stop(struct jv_loop *l)
{
	l->stop = true;
}
