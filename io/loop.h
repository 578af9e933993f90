/* The daemons' event loop: epoll over the daemon's descriptors and one
 * timerfd that follows the engine's next deadline. The table of
 * descriptors grows as needed; jv_loop_reserve sizes it once for the
 * caller's bounds so that running never allocates. */
#ifndef JV_IO_LOOP_H
#define JV_IO_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct jv_loop;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
typedef void (*jv_io_cb)(void *ctx, uint32_t events);

int jv_loop_new(struct jv_loop **out);
void jv_loop_free(struct jv_loop *l);

/* Makes room for n descriptors in all (the loop's timerfd counts as one).
 * 0, -ENOMEM, or -ENOSPC past the loop's hard bound. */
int jv_loop_reserve(struct jv_loop *l, uint32_t n);

/* Registers fd (level-triggered). A descriptor may be registered once
 * (-EEXIST). Grows the table when it is full (-ENOMEM, -ENOSPC). */
int jv_loop_add(struct jv_loop *l, int fd, uint32_t events, jv_io_cb cb,
		void *ctx);
/* -ENOENT for a descriptor not registered. */
int jv_loop_mod(struct jv_loop *l, int fd, uint32_t events);
/* A late descriptor is served after every other one that is ready in the
 * same round (a listener that a flood may keep busy, after the sessions'
 * sockets). 0 or -ENOENT. */
int jv_loop_set_late(struct jv_loop *l, int fd, bool late);
/* Safe from inside a callback (also for fds not yet reported). */
void jv_loop_del(struct jv_loop *l, int fd);

/* The timer fires once at monotonic time at_ms (UINT64_MAX: never). */
void jv_loop_set_timer(struct jv_loop *l, uint64_t at_ms);
void jv_loop_on_timer(struct jv_loop *l, void (*cb)(void *ctx), void *ctx);

/* Runs until jv_loop_stop. Returns 0, or a negative errno on failure. */
int jv_loop_run(struct jv_loop *l);
void jv_loop_stop(struct jv_loop *l);

/* CLOCK_MONOTONIC in milliseconds; and wall-clock (Unix) milliseconds. */
uint64_t jv_mono_ms(void);
uint64_t jv_wall_ms(void);

#endif
