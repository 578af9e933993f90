/* A socket pinned to a device name (io/link.h, struct jv_link_pin): the
 * steps that follow each report on the name, across a device deleted and
 * re-created with a new ifindex, missing at start, reports read late, and
 * a socket that cannot be bound. No kernel: the reports are made up. */
#include <stdbool.h>

#include "io/link.h"
#include "tests/unit/unit.h"

#define CLOSE JV_PIN_CLOSE
#define OPEN JV_PIN_OPEN
#define UP JV_PIN_UP
#define DOWN JV_PIN_DOWN

/* The driver's start: a socket on a device that is there and up, the
 * engine assuming it usable. */
static struct jv_link_pin bound(int ifindex)
{
	return (struct jv_link_pin){ .ifindex = ifindex, .up = true };
}

JV_TEST(test_up_and_down_keep_the_socket)
{
	struct jv_link_pin p = bound(5);

	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_UP), 0);
	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_DOWN), DOWN);
	assert_int_equal(p.ifindex, 5);
	/* every other RTM_NEWLINK of a down device says nothing new */
	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_DOWN), 0);
	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_UP), UP);
	assert_int_equal(p.ifindex, 5);
	assert_true(p.up);
	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_UP), 0);
}

/* deleted while up, re-created (down, then up) with another ifindex */
JV_TEST(test_deleted_and_recreated)
{
	struct jv_link_pin p = bound(5);

	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_GONE), CLOSE | DOWN);
	assert_int_equal(p.ifindex, 0);
	assert_false(p.up);
	/* gone is gone: no socket to close twice */
	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_GONE), 0);
	/* `ip link add`: there, still down: no socket yet */
	assert_int_equal(jv_link_pin_step(&p, 9, JV_LINK_DOWN), 0);
	assert_int_equal(p.ifindex, 0);
	assert_int_equal(jv_link_pin_step(&p, 9, JV_LINK_UP), OPEN | UP);
	assert_int_equal(p.ifindex, 9);
	assert_true(p.up);
	assert_int_equal(jv_link_pin_step(&p, 9, JV_LINK_UP), 0);
}

/* deleted while down: the socket goes, the engine knows already */
JV_TEST(test_deleted_while_down)
{
	struct jv_link_pin p = bound(5);

	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_DOWN), DOWN);
	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_GONE), CLOSE);
	assert_int_equal(jv_link_pin_step(&p, 6, JV_LINK_UP), OPEN | UP);
	assert_int_equal(p.ifindex, 6);
}

/* The deletion and the re-creation were never seen (an overrun): the
 * current state names a new ifindex. Up: a new socket at once, and the
 * engine probes it again. Down: the old socket goes. */
JV_TEST(test_replaced_unseen)
{
	struct jv_link_pin p = bound(5);

	assert_int_equal(jv_link_pin_step(&p, 7, JV_LINK_UP),
			 CLOSE | OPEN | UP);
	assert_int_equal(p.ifindex, 7);
	assert_true(p.up);
	assert_int_equal(jv_link_pin_step(&p, 8, JV_LINK_DOWN), CLOSE | DOWN);
	assert_int_equal(p.ifindex, 0);
	assert_false(p.up);
}

/* the old device's deletion, read after the new one was bound to */
JV_TEST(test_stale_deletion)
{
	struct jv_link_pin p = bound(5);

	assert_int_equal(jv_link_pin_step(&p, 7, JV_LINK_UP),
			 CLOSE | OPEN | UP);
	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_GONE), 0);
	assert_int_equal(p.ifindex, 7);
	assert_true(p.up);
	/* the new one's is not stale */
	assert_int_equal(jv_link_pin_step(&p, 7, JV_LINK_GONE), CLOSE | DOWN);
}

/* missing at start: the engine assumed it up, is told link_down, and
 * the socket comes when the device does */
JV_TEST(test_missing_at_start)
{
	struct jv_link_pin p = { .ifindex = 0, .up = true };

	assert_int_equal(jv_link_pin_step(&p, 0, JV_LINK_GONE), DOWN);
	assert_false(p.up);
	assert_int_equal(jv_link_pin_step(&p, 0, JV_LINK_GONE), 0);
	/* some other device's deletion, reported under the name */
	assert_int_equal(jv_link_pin_step(&p, 3, JV_LINK_GONE), 0);
	assert_int_equal(jv_link_pin_step(&p, 4, JV_LINK_UP), OPEN | UP);
	assert_int_equal(p.ifindex, 4);
}

/* there at start but down: the socket is bound already, kept */
JV_TEST(test_down_at_start)
{
	struct jv_link_pin p = bound(5);

	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_DOWN), DOWN);
	assert_int_equal(p.ifindex, 5);
	assert_int_equal(jv_link_pin_step(&p, 5, JV_LINK_UP), UP);
}

/* no ifindex means no device, whatever the state says */
JV_TEST(test_no_ifindex_is_gone)
{
	struct jv_link_pin p = bound(5);

	assert_int_equal(jv_link_pin_step(&p, 0, JV_LINK_UP), CLOSE | DOWN);
	assert_int_equal(jv_link_pin_step(&p, -1, JV_LINK_UP), 0);
	assert_int_equal(p.ifindex, 0);
}

/* the new socket cannot be bound: no socket, link_down (if the engine
 * was told up), and the next report tries again */
JV_TEST(test_open_fails)
{
	struct jv_link_pin p = { 0 };
	bool was;

	was = p.up;
	assert_int_equal(jv_link_pin_step(&p, 4, JV_LINK_UP), OPEN | UP);
	assert_int_equal(jv_link_pin_open_failed(&p, was), 0);
	assert_int_equal(p.ifindex, 0);
	assert_false(p.up);
	assert_int_equal(jv_link_pin_step(&p, 4, JV_LINK_UP), OPEN | UP);
	assert_true(p.up);

	/* replaced while up, and the new one fails: the engine hears down */
	p = bound(5);
	was = p.up;
	assert_int_equal(jv_link_pin_step(&p, 6, JV_LINK_UP),
			 CLOSE | OPEN | UP);
	assert_int_equal(jv_link_pin_open_failed(&p, was), DOWN);
	assert_false(p.up);
	assert_int_equal(jv_link_pin_step(&p, 6, JV_LINK_DOWN), 0);
	assert_int_equal(jv_link_pin_step(&p, 6, JV_LINK_UP), OPEN | UP);
}
