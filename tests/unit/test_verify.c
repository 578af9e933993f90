/* jvpn audit verify: a valid multi-node, multi-session stream and real
 * engine output pass; each rule, broken once, fails at the right line with
 * a message naming what broke. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/verify.h"
#include "tests/unit/unit.h"

#define SID_A "0123456789abcdef0123456789abcdef"
#define SID_B "fedcba9876543210fedcba9876543210"
#define SID_C "00112233445566778899aabbccddeeff"
#define MAXL 64

struct stream {
	char line[MAXL][512];
	int n;
	uint64_t seq[4];   /* per node: 0 client, 1 server, 2 client2 */
	char run[4][17];   /* per node: run_id, "" for the old format */
	uint64_t start[4]; /* per node: run_start_ms */
};

static const char *const NODES[] = { "laptop", "gw-1", "phone" };

/* Appends one event of node k; extra is the JSON after the common fields
 * (without a leading comma), sid may be NULL. */
static void ev(struct stream *s, int k, uint64_t ts, const char *type,
	       const char *sid, const char *extra)
{
	char sidf[64] = "", runf[80] = "";

	assert_true(s->n < MAXL);
	if (sid)
		snprintf(sidf, sizeof(sidf), ",\"session_id\":\"%s\"", sid);
	if (s->run[k][0])
		snprintf(runf, sizeof(runf),
			 ",\"run_id\":\"%s\",\"run_start_ms\":%llu",
			 s->run[k], (unsigned long long)s->start[k]);
	snprintf(s->line[s->n++], sizeof(s->line[0]),
		 "{\"ts_ms\":%llu,\"seq\":%llu%s,\"event_type\":\"%s\","
		 "\"node_id\":\"%s\",\"role\":\"%s\"%s,\"policy_version\":\"1.0\"%s%s}",
		 (unsigned long long)ts, (unsigned long long)++s->seq[k], runf,
		 type, NODES[k], k == 1 ? "server" : "client", sidf,
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
static void events(struct stream *s)
{
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

/* The stream in the format before run_id (still accepted, as before). */
static void valid(struct stream *s)
{
	memset(s, 0, sizeof(*s));
	events(s);
}

/* Node k's daemon (re)starts: a new run, seq from 1. */
static void restart(struct stream *s, int k, const char *run, uint64_t start)
{
	snprintf(s->run[k], sizeof(s->run[k]), "%s", run);
	s->start[k] = start;
	s->seq[k] = 0;
}

/* The same stream, each node in one run. Lines, (node seq):
 *  1 c1 Created A      9 s3 A->VOLATILE    17 p1 Created B
 *  2 s1 Created A     10 s4 ->RECOVERING   18 s8 Created B
 *  3 s2 ->ATTACHED    11 s5 Result OK      19 s9 B ->ATTACHED
 *  4 c2 ->ATTACHED    12 s6 Switch         20 s10 PolicyLoaded
 *  5 c3 Dead          13 s7 ->ATTACHED     21 s11 A ->TERMINATED
 *  6 c4 ->VOLATILE    14 c7 Result OK      22 s12 Terminated
 *  7 c5 ->RECOVERING  15 c8 Switch         23 c10 ->TERMINATED
 *  8 c6 Attempt       16 c9 ->ATTACHED     24 c11 Terminated */
static void valid_runs(struct stream *s)
{
	memset(s, 0, sizeof(*s));
	restart(s, 0, "00000000000000c1", 0);
	restart(s, 1, "00000000000000a1", 0);
	restart(s, 2, "0000000000000d01", 0);
	events(s);
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

JV_TEST(test_valid)
{
	struct stream s;
	struct jv_verify *v = jv_verify_new(8);
	struct jv_verify_counts c;
	struct jv_error err;

	valid(&s);
	assert_int_equal(run(&s, 8, NULL, 0), 0);
	for (int i = 0; i < s.n; i++)
		assert_int_equal(jv_verify_line(v, s.line[i], strlen(s.line[i]),
						 "t", i + 1, &err), 0);
	jv_verify_counts(v, &c);
	assert_int_equal(c.events, (uint64_t)s.n);
	assert_int_equal(c.nodes, 3);
	assert_int_equal(c.sessions, 2);    /* SID_A, SID_B */
	assert_int_equal(c.timelines, 4);   /* SID_A twice, SID_B twice */
	assert_int_equal(jv_verify_finish(v, &err), 0);
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

JV_TEST(test_seq_gap)
{
	struct stream s;

	valid(&s);
	edit(&s, 4, "\"seq\":2", "\"seq\":3");
	expect_fail(&s, 4, "seq 3, expected 2");
}

JV_TEST(test_seq_duplicate)
{
	struct stream s;

	valid(&s);
	edit(&s, 5, "\"seq\":3", "\"seq\":2");
	expect_fail(&s, 5, "seq 2, expected 3");
}

JV_TEST(test_seq_not_from_one)
{
	struct stream s;

	valid(&s);
	edit(&s, 1, "\"seq\":1", "\"seq\":7");
	expect_fail(&s, 1, "expected 1");
}

JV_TEST(test_bad_transition)
{
	struct stream s;

	valid(&s);
	/* VOLATILE -> ATTACHED is not a row of the table */
	edit(&s, 7, "\"new_state\":\"RECOVERING\",\"reason_code\":\"switch_initiated\"",
	     "\"new_state\":\"ATTACHED\",\"reason_code\":\"reattach_success\"");
	expect_fail(&s, 7, "not a transition of the table");
}

/* `failback` leaves ATTACHED for VOLATILE (issue 11), and nothing else:
 * line 6 is the client's ATTACHED -> VOLATILE, line 7 its -> RECOVERING. */
JV_TEST(test_failback_reason)
{
	struct stream s;

	valid(&s);
	edit(&s, 6, "\"reason_code\":\"heartbeat_timeout\"",
	     "\"reason_code\":\"failback\"");
	assert_int_equal(run(&s, 8, NULL, 0), 0);
	edit(&s, 7, "\"reason_code\":\"switch_initiated\"",
	     "\"reason_code\":\"failback\"");
	expect_fail(&s, 7, "not a transition of the table");
}

/* So does `data_path_silent` (issue 11): ATTACHED -> VOLATILE only. */
JV_TEST(test_data_path_silent_reason)
{
	struct stream s;

	valid(&s);
	edit(&s, 6, "\"reason_code\":\"heartbeat_timeout\"",
	     "\"reason_code\":\"data_path_silent\"");
	assert_int_equal(run(&s, 8, NULL, 0), 0);
	edit(&s, 7, "\"reason_code\":\"switch_initiated\"",
	     "\"reason_code\":\"data_path_silent\"");
	expect_fail(&s, 7, "not a transition of the table");
}

JV_TEST(test_wrong_previous_state)
{
	struct stream s;

	valid(&s);
	edit(&s, 7, "\"previous_state\":\"VOLATILE\"",
	     "\"previous_state\":\"DEGRADED\"");
	expect_fail(&s, 7, "previous_state DEGRADED but the session is VOLATILE");
}

JV_TEST(test_version_skip)
{
	struct stream s;

	valid(&s);
	edit(&s, 7, "\"state_version\":3", "\"state_version\":4");
	expect_fail(&s, 7, "state_version 4, expected 3");
}

JV_TEST(test_event_after_terminated)
{
	struct stream s;

	valid(&s);
	ev(&s, 0, 8000, "KeyRotated", SID_A,
	   "\"reason_code\":\"time_elapsed\",\"key_epoch\":2");
	expect_fail(&s, s.n, "after SessionTerminated");
}

JV_TEST(test_other_event_between)
{
	struct stream s;

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

JV_TEST(test_terminated_without_event)
{
	struct stream s;

	valid(&s);
	s.n--;   /* drop the client's SessionTerminated */
	expect_fail(&s, s.n, "no SessionTerminated event follows");
}

JV_TEST(test_terminated_reason_mismatch)
{
	struct stream s;

	valid(&s);
	edit(&s, s.n, "\"reason_code\":\"peer_terminated\"",
	     "\"reason_code\":\"security_failure\"");
	expect_fail(&s, s.n, "differs from the transition");
	valid(&s);
	edit(&s, s.n, "\"reason_code\":\"peer_terminated\",", "");
	expect_fail(&s, s.n, "SessionTerminated without reason_code");
	/* a known reason, but not one that terminates */
	valid(&s);
	edit(&s, s.n, "\"reason_code\":\"peer_terminated\"",
	     "\"reason_code\":\"heartbeat_timeout\"");
	expect_fail(&s, s.n, "'heartbeat_timeout' is not a termination reason");
}

JV_TEST(test_attached_without_success)
{
	struct stream s;

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

JV_TEST(test_attached_after_denied)
{
	struct stream s;

	valid(&s);
	edit(&s, 14, "\"status\":\"SUCCESS\"", "\"status\":\"DENIED\"");
	expect_fail(&s, 16, "without a ReattachResult SUCCESS (latest since "
		    "RECOVERING: DENIED)");
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

JV_TEST(test_switch_rate)
{
	struct stream s;
	char msg[512];

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

/* The policy default, 8: nine switches in 56 s fail at the ninth; the
 * same nine over 61 s pass; the edge is (ts - 60000, ts], as the engine's
 * limiter counts. */
JV_TEST(test_switch_rate_default)
{
	struct stream s;
	char msg[512];

	switches(&s, 9, 7000);
	assert_int_equal(run(&s, 8, msg, sizeof(msg)), 10);
	assert_non_null(strstr(msg, "9 switches within 60 s (allowed 8)"));
	assert_non_null(strstr(msg, "TransportSwitch seq 10 of node gw-1, "
				    "session " SID_A));
	switches(&s, 9, 61000 / 8);
	assert_int_equal(run(&s, 8, NULL, 0), 0);
	switches(&s, 9, 7500);   /* first and ninth exactly 60000 apart */
	assert_int_equal(run(&s, 8, NULL, 0), 0);
	switches(&s, 9, 7500);
	edit(&s, 10, "\"ts_ms\":60000", "\"ts_ms\":59999");
	assert_int_equal(run(&s, 8, NULL, 0), 10);
	/* a later burst counts from its own first switch */
	switches(&s, 17, 7500);
	assert_int_equal(run(&s, 8, NULL, 0), 0);
	edit(&s, 18, "\"ts_ms\":120000", "\"ts_ms\":119999");
	assert_int_equal(run(&s, 8, NULL, 0), 18);
	/* counted per node and session: another session has its own budget */
	switches(&s, 8, 100);
	for (int i = 0; i < 8; i++)
		ev(&s, 1, 800, "TransportSwitch", SID_B,
		   "\"previous_transport\":\"udp-a\",\"new_transport\":\"udp-b\"");
	assert_int_equal(run(&s, 8, NULL, 0), 0);
	/* a limit of 0 allows none */
	switches(&s, 1, 0);
	assert_int_equal(run(&s, 0, NULL, 0), 2);
}

JV_TEST(test_unknown_reason)
{
	struct stream s;

	valid(&s);
	edit(&s, 5, "heartbeat_timeout", "cosmic_rays");
	expect_fail(&s, 5, "unknown reason_code 'cosmic_rays'");
}

JV_TEST(test_unknown_event_type)
{
	struct stream s;

	valid(&s);
	edit(&s, 8, "ReattachAttempt", "ReattachAttemptt");
	expect_fail(&s, 8, "unknown event_type");
}

/* HandshakeLoad (CONTRACT section 9): a server's, with under_load. */
JV_TEST(test_handshake_load)
{
	char msg[512] = "";
	struct stream s;

	valid(&s);
	ev(&s, 1, 8000, "HandshakeLoad", NULL,
	   "\"under_load\":true,\"cookie_threshold_per_s\":500");
	ev(&s, 1, 10000, "HandshakeLoad", NULL,
	   "\"under_load\":false,\"cookie_threshold_per_s\":500");
	if (run(&s, 8, msg, sizeof(msg)) != 0)
		fail_msg("%s", msg);
	valid(&s);
	ev(&s, 1, 8000, "HandshakeLoad", NULL, "\"under_load\":1");
	expect_fail(&s, s.n, "under_load missing or not true or false");
	valid(&s);
	ev(&s, 0, 8000, "HandshakeLoad", NULL, "\"under_load\":true");
	expect_fail(&s, s.n, "HandshakeLoad from a client");
}

JV_TEST(test_bad_session_id)
{
	struct stream s;

	valid(&s);
	edit(&s, 3, SID_A, "0123456789ABCDEF0123456789abcdef");
	expect_fail(&s, 3, "32 lowercase hex");
	valid(&s);
	edit(&s, 3, SID_A, "0123");
	expect_fail(&s, 3, "32 lowercase hex");
}

JV_TEST(test_not_json)
{
	struct stream s;

	valid(&s);
	strcpy(s.line[9], "{\"ts_ms\":5030,");
	expect_fail(&s, 10, "not a JSON object");
	valid(&s);
	strcpy(s.line[9], "[1,2]");
	expect_fail(&s, 10, "not a JSON object");
}

JV_TEST(test_missing_fields)
{
	static const char *const fields[][2] = {
		{ "\"ts_ms\":10,", "ts_ms" },
		{ "\"event_type\":\"SessionCreated\",", "event_type" },
		{ "\"node_id\":\"gw-1\",", "node_id" },
		{ "\"role\":\"server\",", "role" },
		{ ",\"policy_version\":\"1.0\"", "policy_version" },
		{ "\"seq\":1,", "seq" },
		{ ",\"session_id\":\"" SID_A "\"", "session_id missing" },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct stream s;

		valid(&s);
		edit(&s, 2, fields[i][0], "");
		expect_fail(&s, 2, fields[i][1]);
	}
}

JV_TEST(test_time_backwards)
{
	struct stream s;

	valid(&s);
	edit(&s, 6, "\"ts_ms\":5000", "\"ts_ms\":4000");
	expect_fail(&s, 6, "goes back in time");
}

JV_TEST(test_state_change_without_session)
{
	struct stream s;

	valid(&s);
	edit(&s, 6, ",\"session_id\":\"" SID_A "\"", "");
	expect_fail(&s, 6, "SessionStateChange seq 4 of node laptop: "
		    "session_id missing");
}

JV_TEST(test_terminated_before_change)
{
	struct stream s;

	valid(&s);
	ev(&s, 1, 8000, "SessionTerminated", SID_B,
	   "\"reason_code\":\"operator_terminated\",\"session_age_ms\":1,"
	   "\"transportless_age_ms\":0");
	expect_fail(&s, s.n, "SessionTerminated before a change to TERMINATED "
		    "(the session is ATTACHED)");
}

JV_TEST(test_terminated_twice)
{
	struct stream s;

	valid(&s);
	ev(&s, 0, 7030, "SessionTerminated", SID_A,
	   "\"reason_code\":\"peer_terminated\",\"session_age_ms\":7030,"
	   "\"transportless_age_ms\":0");
	expect_fail(&s, s.n, "event after SessionTerminated");
}

JV_TEST(test_terminated_state_is_absorbing)
{
	struct stream s;

	valid(&s);
	/* the client's ->TERMINATED, then a change out of it */
	s.n--;
	s.seq[0]--;
	change(&s, 0, 7040, SID_A, "TERMINATED", "ATTACHED", "handshake_ok", 6);
	expect_fail(&s, s.n, "after the session was TERMINATED");
}

/* One node's session through recovery; res are the ReattachResult
 * statuses before the RECOVERING -> ATTACHED change. */
static void recovery(struct stream *s, const char *const *res, int nres)
{
	char x[160];

	memset(s, 0, sizeof(*s));
	ev(s, 0, 0, "SessionCreated", SID_A, "\"transport_id\":\"udp-a\"");
	change(s, 0, 10, SID_A, "BIRTH", "ATTACHED", "handshake_ok", 1);
	ev(s, 0, 20, "TransitionRejected", SID_A,
	   "\"previous_state\":\"ATTACHED\",\"attempted_event\":"
	   "\"ATTACHED->ATTACHED:reattach_success\","
	   "\"reason_code\":\"invalid_transition\"");
	change(s, 0, 100, SID_A, "ATTACHED", "VOLATILE", "link_down", 2);
	change(s, 0, 100, SID_A, "VOLATILE", "RECOVERING", "switch_initiated", 3);
	for (int i = 0; i < nres; i++) {
		snprintf(x, sizeof(x),
			 "\"status\":\"%s\",\"reason_code\":\"%s\","
			 "\"candidate_transport\":\"udp-b\"", res[i],
			 res[i][0] == 'S' ? "reattach_success" : "bad_proof");
		ev(s, 0, 200, "ReattachResult", SID_A, x);
	}
	ev(s, 0, 200, "TransportSwitch", SID_A,
	   "\"previous_transport\":\"udp-a\",\"new_transport\":\"udp-b\"");
	change(s, 0, 200, SID_A, "RECOVERING", "ATTACHED", "reattach_success", 4);
}

JV_TEST(test_reattach_latest_result_counts)
{
	static const char *const ok[] = { "DENIED", "SUCCESS" };
	static const char *const denied[] = { "SUCCESS", "DENIED" };
	static const char *const odd[] = { "MAYBE" };
	struct stream s;

	/* TransitionRejected changed nothing; DENIED then SUCCESS: fine */
	recovery(&s, ok, 2);
	assert_int_equal(run(&s, 8, NULL, 0), 0);
	recovery(&s, denied, 2);
	expect_fail(&s, s.n, "(latest since RECOVERING: DENIED)");
	recovery(&s, NULL, 0);
	expect_fail(&s, s.n, "(latest since RECOVERING: none)");
	recovery(&s, odd, 1);
	expect_fail(&s, 6, "status must be SUCCESS or DENIED");
}

/* A SUCCESS of an earlier recovery does not validate a later one. */
JV_TEST(test_reattach_result_is_per_recovery)
{
	static const char *const ok[] = { "SUCCESS" };
	struct stream s;

	recovery(&s, ok, 1);
	s.n -= 2;   /* drop the switch and ->ATTACHED */
	s.seq[0] -= 2;
	change(&s, 0, 300, SID_A, "RECOVERING", "DEGRADED",
	       "recovery_window_expired", 4);
	change(&s, 0, 400, SID_A, "DEGRADED", "RECOVERING", "health_recovered", 5);
	change(&s, 0, 500, SID_A, "RECOVERING", "ATTACHED", "reattach_success", 6);
	expect_fail(&s, s.n, "without a ReattachResult SUCCESS");
}

JV_TEST(test_attached_only_by_handshake_from_birth)
{
	struct stream s;

	valid(&s);
	edit(&s, 3, "handshake_ok", "reattach_success");
	expect_fail(&s, 3, "BIRTH -> ATTACHED (reattach_success) is not a "
		    "transition of the table");
}

JV_TEST(test_reason_none_is_unknown)
{
	struct stream s;

	valid(&s);
	edit(&s, 5, "heartbeat_timeout", "none");
	expect_fail(&s, 5, "unknown reason_code 'none'");
}

JV_TEST(test_wrong_types)
{
	static const char *const cases[][3] = {
		{ "\"ts_ms\":10,", "\"ts_ms\":\"10\",", "ts_ms" },
		{ "\"ts_ms\":10,", "\"ts_ms\":10.5,", "ts_ms" },
		{ "\"seq\":2,", "\"seq\":0,", "seq missing or not a positive" },
		{ "\"role\":\"server\"", "\"role\":\"peer\"", "role" },
		{ "\"node_id\":\"gw-1\"", "\"node_id\":7", "node_id" },
		{ "\"node_id\":\"gw-1\"", "\"node_id\":\"\"", "node_id" },
		{ "\"policy_version\":\"1.0\"", "\"policy_version\":1.0",
		  "policy_version" },
		{ "\"state_version\":1", "\"state_version\":\"1\"",
		  "state_version" },
		{ "\"state_version\":1", "\"state_version\":-1",
		  "state_version -1, expected 1" },
		{ "\"new_state\":\"ATTACHED\"", "\"new_state\":\"ATACHED\"",
		  "new_state" },
		{ "\"reason_code\":\"handshake_ok\"", "\"reason_code\":1",
		  "reason_code is not a string" },
		{ "\"session_id\":\"" SID_A "\"", "\"session_id\":null",
		  "32 lowercase hex" },
		{ "\"seq\":2,", "\"seq\":2,\"seq\":2,", "not a JSON object" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stream s;

		valid(&s);
		edit(&s, 3, cases[i][0], cases[i][1]);
		expect_fail(&s, 3, cases[i][2]);
	}
}

JV_TEST(test_node_id_too_long)
{
	struct stream s;
	char id[80];

	valid(&s);
	memset(id, 'n', 64);
	id[64] = '\0';
	edit(&s, 2, "gw-1", id);
	expect_fail(&s, 2, "node_id longer than 63 bytes");
	valid(&s);
	id[63] = '\0';
	edit(&s, 2, "gw-1", id);
	expect_fail(&s, 3, "seq 2, expected 1");   /* a new node, fine */
}

/* -- real engine output (tests/data/audit, see its README) -- */

#define FIX_LINES 128

struct fixture {
	char line[FIX_LINES][1024];
	int n;
	char path[512];
};

static void load(struct fixture *f, const char *name)
{
	const char *dir = getenv("JV_TESTDATA");
	FILE *fp;

	snprintf(f->path, sizeof(f->path), "%s/audit/%s",
		 dir ? dir : "tests/data", name);
	fp = fopen(f->path, "r");
	if (!fp)
		fail_msg("cannot open %s (set JV_TESTDATA)", f->path);
	f->n = 0;
	while (f->n < FIX_LINES &&
	       fgets(f->line[f->n], sizeof(f->line[0]), fp)) {
		f->line[f->n][strcspn(f->line[f->n], "\n")] = '\0';
		f->n++;
	}
	assert_true(feof(fp));
	fclose(fp);
	assert_true(f->n > 0);
}

/* Feeds f's lines, skipping line skip (1-based; 0 none), into v; returns
 * the failing line or 0. */
static int feed(struct jv_verify *v, const struct fixture *f, int skip,
		struct jv_error *err)
{
	for (int i = 0; i < f->n; i++)
		if (i + 1 != skip &&
		    jv_verify_line(v, f->line[i], strlen(f->line[i]), f->path,
				   i + 1, err) != 0)
			return i + 1;
	return 0;
}

JV_TEST(test_engine_output_passes)
{
	static const char *const names[] = {
		"sim-flapping.jsonl", "sim-repeated-denials.jsonl",
		"sim-lifetime-reconnect.jsonl",
	};
	static struct fixture f;
	struct jv_verify_counts c;
	struct jv_error err;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct jv_verify *v = jv_verify_new(8);

		load(&f, names[i]);
		if (feed(v, &f, 0, &err) || jv_verify_finish(v, &err))
			fail_msg("%s:%d: %s", err.file, err.line, err.msg);
		jv_verify_counts(v, &c);
		assert_int_equal(c.events, (uint64_t)f.n);
		assert_int_equal(c.nodes, 2);
		assert_int_equal(c.sessions, i == 2 ? 2 : 1);
		jv_verify_free(v);
	}
	/* the flapping run makes 4 switches within 3 s on each node: a limit
	 * of 3 must catch the server's fourth, at line 57 */
	{
		struct jv_verify *v = jv_verify_new(3);
		int bad;

		load(&f, "sim-flapping.jsonl");
		bad = feed(v, &f, 0, &err);
		assert_int_equal(bad, 57);
		assert_non_null(strstr(err.msg, "TransportSwitch seq 28 of node "
					"server"));
		assert_non_null(strstr(err.msg, "4 switches within 60 s"));
		jv_verify_free(v);
	}
}

/* Dropping any one line breaks the next line of the same node (its seq),
 * or, for a node's last SessionTerminated, the end-of-input check. With
 * run_id, a node's first line dropped looks like a file that begins in
 * the middle of the run (a rotated file) and passes; the old format has
 * no runs and still wants seq 1. */
static void each_line_dropped(const char *name, bool runs)
{
	static struct fixture f;
	struct jv_error err;

	load(&f, name);
	for (int skip = 1; skip <= f.n; skip++) {
		struct jv_verify *v = jv_verify_new(8);
		const char *node = strstr(f.line[skip - 1], "\"node_id\":");
		char key[80];
		int next = 0, bad;
		bool first = true;

		assert_non_null(node);
		assert_true(runs == (strstr(f.line[skip - 1], "\"run_id\":") != NULL));
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(node + 11, "\"") + 12,
			 node);
		for (int j = 1; j < skip && first; j++)
			first = !strstr(f.line[j - 1], key);
		for (int j = skip + 1; j <= f.n && !next; j++)
			if (strstr(f.line[j - 1], key))
				next = j;
		bad = feed(v, &f, skip, &err);
		if (next && !(runs && first)) {
			if (bad != next || !strstr(err.msg, "seq"))
				fail_msg("%s: line %d dropped: expected a seq error "
					 "at %d, got %d: %s", name, skip, next,
					 bad, err.msg);
		} else {
			if (bad)
				fail_msg("%s: line %d dropped: %s", name, skip,
					 err.msg);
			if (strstr(f.line[skip - 1], "SessionTerminated"))
				assert_int_not_equal(jv_verify_finish(v, &err), 0);
		}
		jv_verify_free(v);
	}
}

JV_TEST(test_engine_output_each_line_dropped)
{
	each_line_dropped("sim-repeated-denials.jsonl", true);
	each_line_dropped("legacy-repeated-denials.jsonl", false);
}

/* Two daemons' logs given as two files: one checker over both, and a
 * violation names the file it is in. */
JV_TEST(test_two_files)
{
	static struct fixture cl, sv;
	struct jv_verify_counts c;
	struct jv_verify *v;
	struct jv_error err;

	load(&cl, "split-client.jsonl");
	load(&sv, "split-server.jsonl");
	v = jv_verify_new(8);
	assert_int_equal(feed(v, &cl, 0, &err), 0);
	assert_int_equal(feed(v, &sv, 0, &err), 0);
	assert_int_equal(jv_verify_finish(v, &err), 0);
	jv_verify_counts(v, &c);
	assert_int_equal(c.events, (uint64_t)(cl.n + sv.n));
	assert_int_equal(c.sessions, 1);
	assert_int_equal(c.timelines, 2);
	assert_int_equal(c.nodes, 2);
	jv_verify_free(v);
	/* the client's log twice: its seq starts over */
	v = jv_verify_new(8);
	assert_int_equal(feed(v, &cl, 0, &err), 0);
	assert_int_equal(feed(v, &cl, 0, &err), 1);
	assert_non_null(strstr(err.msg, "seq 1, expected"));
	jv_verify_free(v);
	/* a break in the second file is reported there */
	v = jv_verify_new(8);
	assert_int_equal(feed(v, &cl, 0, &err), 0);
	assert_int_equal(feed(v, &sv, 3, &err), 4);
	assert_string_equal(err.file, sv.path);
	assert_int_equal(err.line, 4);
	jv_verify_free(v);
}

/* -- runs: a daemon restart appends a new run, rotation cuts a run -- */

/* Feeds the stream as nfiles files, file i holding lines start[i] to
 * start[i + 1] - 1 (the last to the end), named as logrotate names them
 * (audit.jsonl.N ... audit.jsonl.1, then audit.jsonl); line skip (0 none)
 * is left out. Returns the failing stream line, 0 if all passed; *file
 * names the file it was in. */
static int feed_files(struct stream *s, int skip, const int *start, int nfiles,
		      char *msg, size_t cap, char *file, size_t fcap)
{
	struct jv_verify *v = jv_verify_new(8);
	struct jv_error err;
	int bad = 0;

	assert_non_null(v);
	for (int f = 0; f < nfiles && !bad; f++) {
		int end = f + 1 < nfiles ? start[f + 1] : s->n + 1;
		char name[32];

		if (f + 1 < nfiles)
			snprintf(name, sizeof(name), "audit.jsonl.%d", nfiles - 1 - f);
		else
			snprintf(name, sizeof(name), "audit.jsonl");
		for (int i = start[f]; i < end && !bad; i++) {
			if (i == skip)
				continue;
			if (jv_verify_line(v, s->line[i - 1],
					   strlen(s->line[i - 1]), name,
					   i - start[f] + 1, &err) != 0)
				bad = i;
		}
	}
	if (!bad && jv_verify_finish(v, &err) != 0)
		bad = -1;
	if (bad && msg)
		snprintf(msg, cap, "%s", err.msg);
	if (bad && file)
		snprintf(file, fcap, "%s", err.file);
	jv_verify_free(v);
	return bad;
}

static void expect_files(struct stream *s, int skip, const int *start,
			 int nfiles, int line, const char *file,
			 const char *needle)
{
	char msg[512] = "", got_file[256] = "";
	int got = feed_files(s, skip, start, nfiles, msg, sizeof(msg), got_file,
			     sizeof(got_file));

	if (got != line || (line && (!strstr(msg, needle) ||
				     strcmp(got_file, file))))
		fail_msg("expected line %d of %s with '%s', got line %d of "
			 "%s: %s", line, file ? file : "-", needle ? needle : "",
			 got, got_file, msg);
}

/* The new run of the gateway after the stream: the old run's sessions
 * just stop (no SessionTerminated), the client's reattach is denied,
 * a new session comes up. */
static void server_restarts(struct stream *s, const char *run, uint64_t at)
{
	restart(s, 1, run, at);
	ev(s, 1, at + 5, "PolicyLoaded", NULL,
	   "\"reason_code\":\"policy_valid\",\"detail\":\"\"");
	ev(s, 1, at + 10, "ReattachResult", SID_B,
	   "\"status\":\"DENIED\",\"reason_code\":\"unknown_session\","
	   "\"candidate_transport\":\"udp-a\"");
	ev(s, 1, at + 20, "SessionCreated", SID_C, "\"transport_id\":\"udp-a\"");
	change(s, 1, at + 20, SID_C, "BIRTH", "ATTACHED", "handshake_ok", 1);
}

/* A restart appends a run starting at seq 1 to the same file: no false
 * "seq 1, expected 13"; session B of the old run (ATTACHED, never
 * terminated) is not flagged. */
JV_TEST(test_restart_appended)
{
	struct stream s;
	int one[] = { 1 };

	valid_runs(&s);
	server_restarts(&s, "00000000000000a2", 90000);
	server_restarts(&s, "00000000000000a3", 95000);
	expect_files(&s, 0, one, 1, 0, NULL, NULL);
	/* a gap inside the second run is still one */
	expect_files(&s, 27, one, 1, 28, "audit.jsonl", "seq 4, expected 3");
	/* the old format has no runs: a restart there is still a break */
	valid(&s);
	s.seq[1] = 0;
	ev(&s, 1, 90000, "PolicyLoaded", NULL,
	   "\"reason_code\":\"policy_valid\",\"detail\":\"\"");
	expect_fail(&s, 25, "seq 1, expected 13");
}

/* A new run that does not open the file must start at seq 1. */
JV_TEST(test_new_run_mid_file_from_one)
{
	struct stream s;
	int one[] = { 1 };

	valid_runs(&s);
	restart(&s, 1, "00000000000000a2", 90000);
	s.seq[1] = 2;
	ev(&s, 1, 90005, "PolicyLoaded", NULL,
	   "\"reason_code\":\"policy_valid\",\"detail\":\"\"");
	expect_files(&s, 0, one, 1, 25, "audit.jsonl", "seq 3, expected 1");
}

/* A rotated file begins mid-run: each node's first event may be above
 * seq 1, and sessions seen from the middle of their life take their
 * state from their first change. A gap after that is still caught. */
JV_TEST(test_file_begins_mid_run)
{
	struct stream s;

	for (int from = 2; from <= 24; from++) {
		int start[] = { from };

		valid_runs(&s);
		expect_files(&s, 0, start, 1, 0, NULL, NULL);
	}
	{
		int start[] = { 5 };

		valid_runs(&s);
		expect_files(&s, 10, start, 1, 11, "audit.jsonl",
			     "seq 5, expected 4");
		valid_runs(&s);
		expect_files(&s, 6, start, 1, 7, "audit.jsonl",
			     "seq 5, expected 4");
	}
}

/* A session first seen mid-life is checked from its first change on. */
JV_TEST(test_mid_run_still_checks_transitions)
{
	struct stream s;
	int from5[] = { 5 }, from14[] = { 14 };

	valid_runs(&s);
	edit(&s, 7, "\"previous_state\":\"VOLATILE\"",
	     "\"previous_state\":\"ATTACHED\"");
	expect_files(&s, 0, from5, 1, 7, "audit.jsonl",
		     "previous_state ATTACHED but the session is VOLATILE");
	valid_runs(&s);
	edit(&s, 7, "\"state_version\":3", "\"state_version\":4");
	expect_files(&s, 0, from5, 1, 7, "audit.jsonl",
		     "state_version 4, expected 3");
	/* the client's first event is a ReattachResult: its DENIED counts */
	valid_runs(&s);
	edit(&s, 14, "SUCCESS", "DENIED");
	expect_files(&s, 0, from14, 1, 16, "audit.jsonl",
		     "without a ReattachResult SUCCESS (latest since "
		     "RECOVERING: DENIED)");
	valid_runs(&s);
	edit(&s, 6, "\"previous_state\":\"ATTACHED\",\"new_state\":\"VOLATILE\"",
	     "\"previous_state\":\"ATTACHED\",\"new_state\":\"BIRTH\"");
	expect_files(&s, 0, from5, 1, 6, "audit.jsonl",
		     "is not a transition of the table");
}

/* audit.jsonl.1 then audit.jsonl: one run across the two files. */
JV_TEST(test_run_files_joined)
{
	struct stream s;
	int two[] = { 1, 10 }, three[] = { 3, 10, 20 };

	valid_runs(&s);
	expect_files(&s, 0, two, 2, 0, NULL, NULL);
	expect_files(&s, 0, three, 3, 0, NULL, NULL);
	/* the last line of the older file lost: found in the newer one */
	expect_files(&s, 9, two, 2, 10, "audit.jsonl", "seq 4, expected 3");
	/* the first line of the newer file lost: still a gap, the run was
	 * seen before */
	expect_files(&s, 10, two, 2, 11, "audit.jsonl", "seq 5, expected 4");
	/* rotation after a restart: the new run goes on in the new file */
	valid_runs(&s);
	server_restarts(&s, "00000000000000a2", 90000);
	ev(&s, 1, 90100, "PolicyLoaded", NULL,
	   "\"reason_code\":\"policy_valid\",\"detail\":\"\"");
	{
		int cut[] = { 1, 27 };

		expect_files(&s, 0, cut, 2, 0, NULL, NULL);
		expect_files(&s, 27, cut, 2, 28, "audit.jsonl",
			     "seq 4, expected 3");
	}
	/* the files in the wrong order: the older one goes back */
	{
		struct stream r;
		int half[] = { 1, 10 };

		valid_runs(&s);
		memset(&r, 0, sizeof(r));
		for (int i = 10; i <= s.n; i++)
			strcpy(r.line[r.n++], s.line[i - 1]);
		for (int i = 1; i < 10; i++)
			strcpy(r.line[r.n++], s.line[i - 1]);
		half[1] = s.n - 9 + 1;
		expect_files(&r, 0, half, 2, half[1], "audit.jsonl",
			     "seq 1, expected 12");
	}
}

/* Once a node's new run has begun, its old run is over. */
JV_TEST(test_old_run_after_new)
{
	struct stream s;
	int one[] = { 1 };

	valid_runs(&s);
	restart(&s, 1, "00000000000000a2", 90000);
	ev(&s, 1, 90005, "PolicyLoaded", NULL,
	   "\"reason_code\":\"policy_valid\",\"detail\":\"\"");
	restart(&s, 1, "00000000000000a1", 0);
	s.seq[1] = 12;
	ev(&s, 1, 90010, "PolicyLoaded", NULL,
	   "\"reason_code\":\"policy_valid\",\"detail\":\"\"");
	expect_files(&s, 0, one, 1, 26, "audit.jsonl",
		     "run 00000000000000a1 of node gw-1 ended");
}

JV_TEST(test_run_fields)
{
	struct stream s;
	int one[] = { 1 };

	valid_runs(&s);
	edit(&s, 3, "\"run_id\":\"00000000000000a1\"", "\"run_id\":\"A1\"");
	expect_files(&s, 0, one, 1, 3, "audit.jsonl",
		     "run_id is not 16 lowercase hex characters");
	valid_runs(&s);
	edit(&s, 3, "\"run_start_ms\":0", "\"run_start_ms\":1");
	expect_files(&s, 0, one, 1, 3, "audit.jsonl",
		     "run_start_ms 1 differs from its run's 0");
	valid_runs(&s);
	edit(&s, 3, ",\"run_start_ms\":0", "");
	expect_files(&s, 0, one, 1, 3, "audit.jsonl",
		     "run_id without run_start_ms");
	valid_runs(&s);
	edit(&s, 3, "\"run_id\":\"00000000000000a1\",", "");
	expect_files(&s, 0, one, 1, 3, "audit.jsonl",
		     "run_start_ms without run_id");
	valid_runs(&s);
	restart(&s, 1, "00000000000000a2", 90000);
	ev(&s, 1, 80000, "PolicyLoaded", NULL,
	   "\"reason_code\":\"policy_valid\",\"detail\":\"\"");
	expect_files(&s, 0, one, 1, 25, "audit.jsonl",
		     "ts_ms 80000 is before run_start_ms 90000");
}

/* peer and remote (CONTRACT section 8) are read where they are, as
 * strings; logs without them still pass. */
JV_TEST(test_peer_and_remote)
{
	struct stream s;

	valid(&s);
	edit(&s, 3, "\"policy_version\":\"1.0\"",
	     "\"policy_version\":\"1.0\",\"peer\":\"laptop\","
	     "\"remote\":\"[2001:db8::1]:443\"");
	assert_int_equal(run(&s, 8, NULL, 0), 0);
	valid(&s);
	edit(&s, 3, "\"policy_version\":\"1.0\"",
	     "\"policy_version\":\"1.0\",\"peer\":7");
	expect_fail(&s, 3, "peer is not");
	valid(&s);
	edit(&s, 3, "\"policy_version\":\"1.0\"",
	     "\"policy_version\":\"1.0\",\"remote\":\"\"");
	expect_fail(&s, 3, "remote is not");
}
