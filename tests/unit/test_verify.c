/* jvpn audit verify: a valid two-node stream passes; each rule, broken
 * once, fails at the right line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/verify.h"

#define SID_A "0123456789abcdef0123456789abcdef"
#define SID_B "fedcba9876543210fedcba9876543210"
#define MAXL 64

struct stream {
	char line[MAXL][512];
	int n;
	uint64_t seq[4];   /* per node: 0 client, 1 server, 2 client2 */
};

static const char *const NODES[] = { "laptop", "gw-1", "phone" };

/* Appends one event of node k; extra is the JSON after the common fields
 * (without a leading comma), sid may be NULL. */
static void ev(struct stream *s, int k, uint64_t ts, const char *type,
	       const char *sid, const char *extra)
{
	char sidf[64] = "";

	assert_true(s->n < MAXL);
	if (sid)
		snprintf(sidf, sizeof(sidf), ",\"session_id\":\"%s\"", sid);
	snprintf(s->line[s->n++], sizeof(s->line[0]),
		 "{\"ts_ms\":%llu,\"seq\":%llu,\"event_type\":\"%s\","
		 "\"node_id\":\"%s\",\"role\":\"%s\"%s,\"policy_version\":\"1.0\"%s%s}",
		 (unsigned long long)ts, (unsigned long long)++s->seq[k], type,
		 NODES[k], k == 1 ? "server" : "client", sidf,
		 extra && *extra ? "," : "", extra ? extra : "");
}

static void change(struct stream *s, int k, uint64_t ts, const char *sid,
		   const char *from, const char *to, const char *why,
		   int version)
{
	char x[256];

	snprintf(x, sizeof(x),
		 "\"previous_state\":\"%s\",\"new_state\":\"%s\","
		 "\"reason_code\":\"%s\",\"state_version\":%d,"
		 "\"transport_id\":null", from, to, why, version);
	ev(s, k, ts, "SessionStateChange", sid, x);
}

/* Handshake on both nodes, one switch, then a termination on both. */
static void valid(struct stream *s)
{
	memset(s, 0, sizeof(*s));
	ev(s, 0, 0, "SessionCreated", SID_A, "\"transport_id\":\"udp-a\"");
	ev(s, 1, 10, "SessionCreated", SID_A, "\"transport_id\":\"udp-a\"");
	change(s, 1, 10, SID_A, "BIRTH", "ATTACHED", "handshake_ok", 1);
	change(s, 0, 20, SID_A, "BIRTH", "ATTACHED", "handshake_ok", 1);
	ev(s, 0, 5000, "TransportDead", SID_A,
	   "\"transport_id\":\"udp-a\",\"reason_code\":\"heartbeat_timeout\","
	   "\"last_rx_age_ms\":2001");
	change(s, 0, 5000, SID_A, "ATTACHED", "VOLATILE", "heartbeat_timeout", 2);
	change(s, 0, 5000, SID_A, "VOLATILE", "RECOVERING", "switch_initiated", 3);
	ev(s, 0, 5000, "ReattachAttempt", SID_A,
	   "\"candidate_transport\":\"udp-b\",\"recovery_deadline_ms\":13000");
	change(s, 1, 5030, SID_A, "ATTACHED", "VOLATILE", "peer_path_change", 2);
	change(s, 1, 5030, SID_A, "VOLATILE", "RECOVERING", "switch_initiated", 3);
	ev(s, 1, 5030, "ReattachResult", SID_A,
	   "\"status\":\"SUCCESS\",\"reason_code\":\"reattach_success\","
	   "\"candidate_transport\":\"udp-b\"");
	ev(s, 1, 5030, "TransportSwitch", SID_A,
	   "\"previous_transport\":\"udp-a\",\"new_transport\":\"udp-b\"");
	change(s, 1, 5030, SID_A, "RECOVERING", "ATTACHED", "reattach_success", 4);
	ev(s, 0, 5060, "ReattachResult", SID_A,
	   "\"status\":\"SUCCESS\",\"reason_code\":\"reattach_success\","
	   "\"candidate_transport\":\"udp-b\"");
	ev(s, 0, 5060, "TransportSwitch", SID_A,
	   "\"previous_transport\":\"udp-a\",\"new_transport\":\"udp-b\"");
	change(s, 0, 5060, SID_A, "RECOVERING", "ATTACHED", "reattach_success", 4);
	/* a second client's session on the gateway, and a policy event */
	ev(s, 2, 6000, "SessionCreated", SID_B, "\"transport_id\":\"udp-a\"");
	ev(s, 1, 6010, "SessionCreated", SID_B, "\"transport_id\":\"udp-a\"");
	change(s, 1, 6010, SID_B, "BIRTH", "ATTACHED", "handshake_ok", 1);
	ev(s, 1, 6500, "PolicyLoaded", NULL,
	   "\"reason_code\":\"policy_valid\",\"detail\":\"\"");
	change(s, 1, 7000, SID_A, "ATTACHED", "TERMINATED",
	       "operator_terminated", 5);
	ev(s, 1, 7000, "SessionTerminated", SID_A,
	   "\"reason_code\":\"operator_terminated\",\"session_age_ms\":6990,"
	   "\"transportless_age_ms\":0");
	change(s, 0, 7030, SID_A, "ATTACHED", "TERMINATED", "peer_terminated", 5);
	ev(s, 0, 7030, "SessionTerminated", SID_A,
	   "\"reason_code\":\"peer_terminated\",\"session_age_ms\":7030,"
	   "\"transportless_age_ms\":0");
}

/* Runs the stream; returns the failing line (1-based), 0 if it passed. */
static int run(struct stream *s, uint32_t max_switches, char *msg, size_t cap)
{
	struct jv_verify *v = jv_verify_new(max_switches);
	struct jv_error err;
	int bad = 0;

	assert_non_null(v);
	for (int i = 0; i < s->n && !bad; i++)
		if (jv_verify_line(v, s->line[i], strlen(s->line[i]), "t.jsonl",
				   i + 1, &err) != 0)
			bad = err.line ? err.line : -1;
	if (!bad && jv_verify_finish(v, &err) != 0)
		bad = err.line ? err.line : -1;
	if (bad && msg)
		snprintf(msg, cap, "%s", err.msg);
	jv_verify_free(v);
	return bad;
}

static void expect_fail(struct stream *s, int line, const char *needle)
{
	char msg[512] = "";
	int got = run(s, 8, msg, sizeof(msg));

	if (got != line || !strstr(msg, needle))
		fail_msg("expected line %d with '%s', got line %d: %s", line,
			 needle, got, msg);
}

static void test_valid(void **state)
{
	struct stream s;
	struct jv_verify *v = jv_verify_new(8);
	struct jv_verify_counts c;
	struct jv_error err;

	(void)state;
	valid(&s);
	assert_int_equal(run(&s, 8, NULL, 0), 0);
	for (int i = 0; i < s.n; i++)
		assert_int_equal(jv_verify_line(v, s.line[i], strlen(s.line[i]),
						 "t", i + 1, &err), 0);
	jv_verify_counts(v, &c);
	assert_int_equal(c.events, (uint64_t)s.n);
	assert_int_equal(c.nodes, 3);
	assert_int_equal(c.sessions, 4);   /* SID_A twice, SID_B twice */
	jv_verify_free(v);
}

/* Replaces the first occurrence of a with b in line i. */
static void edit(struct stream *s, int i, const char *a, const char *b)
{
	char *p = strstr(s->line[i - 1], a), tmp[512];

	assert_non_null(p);
	snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)(p - s->line[i - 1]),
		 s->line[i - 1], b, p + strlen(a));
	strcpy(s->line[i - 1], tmp);
}

static void test_seq_gap(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, 4, "\"seq\":2", "\"seq\":3");
	expect_fail(&s, 4, "seq 3, expected 2");
}

static void test_seq_duplicate(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, 5, "\"seq\":3", "\"seq\":2");
	expect_fail(&s, 5, "seq 2, expected 3");
}

static void test_seq_not_from_one(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, 1, "\"seq\":1", "\"seq\":7");
	expect_fail(&s, 1, "expected 1");
}

static void test_bad_transition(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	/* VOLATILE -> ATTACHED is not a row of the table */
	edit(&s, 7, "\"new_state\":\"RECOVERING\",\"reason_code\":\"switch_initiated\"",
	     "\"new_state\":\"ATTACHED\",\"reason_code\":\"reattach_success\"");
	expect_fail(&s, 7, "not a transition of the table");
}

static void test_wrong_previous_state(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, 7, "\"previous_state\":\"VOLATILE\"",
	     "\"previous_state\":\"DEGRADED\"");
	expect_fail(&s, 7, "previous_state DEGRADED but the session is VOLATILE");
}

static void test_version_skip(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, 7, "\"state_version\":3", "\"state_version\":4");
	expect_fail(&s, 7, "state_version 4, expected 3");
}

static void test_event_after_terminated(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	ev(&s, 0, 8000, "KeyRotated", SID_A,
	   "\"reason_code\":\"time_elapsed\",\"key_epoch\":2");
	expect_fail(&s, s.n, "after SessionTerminated");
}

static void test_other_event_between(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	/* something between ->TERMINATED and SessionTerminated */
	strcpy(s.line[s.n], s.line[s.n - 1]);
	s.n++;
	snprintf(s.line[s.n - 2], sizeof(s.line[0]),
		 "{\"ts_ms\":7030,\"seq\":11,\"event_type\":\"KeyRotated\","
		 "\"node_id\":\"laptop\",\"role\":\"client\",\"session_id\":\"%s\","
		 "\"policy_version\":\"1.0\",\"reason_code\":\"time_elapsed\"}",
		 SID_A);
	edit(&s, s.n, "\"seq\":11", "\"seq\":12");
	expect_fail(&s, s.n - 1, "after the session was TERMINATED");
}

static void test_terminated_without_event(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	s.n--;   /* drop the client's SessionTerminated */
	expect_fail(&s, s.n, "no SessionTerminated event follows");
}

static void test_terminated_reason_mismatch(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, s.n, "\"reason_code\":\"peer_terminated\"",
	     "\"reason_code\":\"security_failure\"");
	expect_fail(&s, s.n, "differs from the transition");
	valid(&s);
	edit(&s, s.n, "\"reason_code\":\"peer_terminated\",", "");
	expect_fail(&s, s.n, "(none)");
}

static void test_attached_without_success(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	/* the client's ReattachResult (line 14) removed: seq renumbered */
	for (int i = 13; i < s.n - 1; i++)
		strcpy(s.line[i], s.line[i + 1]);
	s.n--;
	for (int i = 13; i < s.n; i++) {
		char from[32], to[32];
		int seq;

		if (!strstr(s.line[i], "\"node_id\":\"laptop\""))
			continue;
		sscanf(strstr(s.line[i], "\"seq\":") + 6, "%d", &seq);
		snprintf(from, sizeof(from), "\"seq\":%d,", seq);
		snprintf(to, sizeof(to), "\"seq\":%d,", seq - 1);
		edit(&s, i + 1, from, to);
	}
	expect_fail(&s, 15, "without a ReattachResult SUCCESS");
}

static void test_attached_after_denied(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, 14, "\"status\":\"SUCCESS\"", "\"status\":\"DENIED\"");
	expect_fail(&s, 16, "without a ReattachResult SUCCESS");
}

/* n switches by the gateway, spaced step ms apart. */
static void switches(struct stream *s, int n, uint64_t step)
{
	memset(s, 0, sizeof(*s));
	ev(s, 1, 0, "SessionCreated", SID_A, "\"transport_id\":\"udp-a\"");
	for (int i = 0; i < n; i++)
		ev(s, 1, (uint64_t)i * step, "TransportSwitch", SID_A,
		   "\"previous_transport\":\"udp-a\",\"new_transport\":\"udp-b\"");
}

static void test_switch_rate(void **state)
{
	struct stream s;
	char msg[512];

	(void)state;
	/* 5 within 60 s with a limit of 4: the fifth fails */
	switches(&s, 5, 14000);
	assert_int_equal(run(&s, 4, msg, sizeof(msg)), 6);
	assert_non_null(strstr(msg, "5 switches within 60 s (allowed 4)"));
	/* the same 5 spread so the first left the window: fine */
	switches(&s, 5, 15000);
	assert_int_equal(run(&s, 4, NULL, 0), 0);
	switches(&s, 8, 100);
	assert_int_equal(run(&s, 8, NULL, 0), 0);
}

static void test_unknown_reason(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, 5, "heartbeat_timeout", "cosmic_rays");
	expect_fail(&s, 5, "unknown reason_code 'cosmic_rays'");
}

static void test_unknown_event_type(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, 8, "ReattachAttempt", "ReattachAttemptt");
	expect_fail(&s, 8, "unknown event_type");
}

static void test_bad_session_id(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, 3, SID_A, "0123456789ABCDEF0123456789abcdef");
	expect_fail(&s, 3, "32 lowercase hex");
	valid(&s);
	edit(&s, 3, SID_A, "0123");
	expect_fail(&s, 3, "32 lowercase hex");
}

static void test_not_json(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	strcpy(s.line[9], "{\"ts_ms\":5030,");
	expect_fail(&s, 10, "not a JSON object");
	valid(&s);
	strcpy(s.line[9], "[1,2]");
	expect_fail(&s, 10, "not a JSON object");
}

static void test_missing_fields(void **state)
{
	static const char *const fields[][2] = {
		{ "\"ts_ms\":10,", "ts_ms" },
		{ "\"event_type\":\"SessionCreated\",", "event_type" },
		{ "\"node_id\":\"gw-1\",", "node_id" },
		{ "\"role\":\"server\",", "role" },
		{ ",\"policy_version\":\"1.0\"", "policy_version" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct stream s;

		valid(&s);
		edit(&s, 2, fields[i][0], "");
		expect_fail(&s, 2, fields[i][1]);
	}
}

static void test_time_backwards(void **state)
{
	struct stream s;

	(void)state;
	valid(&s);
	edit(&s, 6, "\"ts_ms\":5000", "\"ts_ms\":4000");
	expect_fail(&s, 6, "goes back in time");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_seq_gap),
		cmocka_unit_test(test_seq_duplicate),
		cmocka_unit_test(test_seq_not_from_one),
		cmocka_unit_test(test_bad_transition),
		cmocka_unit_test(test_wrong_previous_state),
		cmocka_unit_test(test_version_skip),
		cmocka_unit_test(test_event_after_terminated),
		cmocka_unit_test(test_other_event_between),
		cmocka_unit_test(test_terminated_without_event),
		cmocka_unit_test(test_terminated_reason_mismatch),
		cmocka_unit_test(test_attached_without_success),
		cmocka_unit_test(test_attached_after_denied),
		cmocka_unit_test(test_switch_rate),
		cmocka_unit_test(test_unknown_reason),
		cmocka_unit_test(test_unknown_event_type),
		cmocka_unit_test(test_bad_session_id),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_time_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
