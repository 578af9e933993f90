/* Audit events: JSON escaping, numbers, overflow, and the emitter's common
 * fields, exact order and gapless seq. Every expectation is an exact
 * string: a reordered field or a changed escape must fail. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/audit.h"
#include "tests/unit/unit.h"

/* One string value through the writer. */
static void write_one(const char *in, size_t n, char *buf, size_t cap)
{
	struct jv_json w;

	jv_json_begin(&w, buf, cap);
	jv_json_strn(&w, "k", in, n);
	assert_true(jv_json_end(&w) > 0);
}

JV_TEST(test_escape_quotes_backslash_utf8)
{
	static const char in[] = "a\"b\\c/\x7f\xc3\xa9\xf0\x9f\x98\x80";
	char buf[128];

	write_one(in, sizeof(in) - 1, buf, sizeof(buf));
	/* '/' and DEL need no escape; bytes >= 0x80 pass untouched */
	assert_string_equal(buf, "{\"k\":\"a\\\"b\\\\c/\x7f\xc3\xa9\xf0\x9f\x98\x80\"}");
}

/* Every control character, each with its one RFC 8259 form. */
JV_TEST(test_every_control_char)
{
	static const char *const want[0x20] = {
		"\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004",
		"\\u0005", "\\u0006", "\\u0007", "\\b", "\\t", "\\n",
		"\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010",
		"\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015",
		"\\u0016", "\\u0017", "\\u0018", "\\u0019", "\\u001a",
		"\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
	};
	char buf[64], exp[64], in[3];

	for (int c = 0; c < 0x20; c++) {
		/* surrounded, so a run boundary bug would show */
		in[0] = 'x';
		in[1] = (char)c;
		in[2] = 'y';
		write_one(in, 3, buf, sizeof(buf));
		snprintf(exp, sizeof(exp), "{\"k\":\"x%sy\"}", want[c]);
		assert_string_equal(buf, exp);
	}
}

/* A parser reads back exactly the bytes written, NUL included. */
JV_TEST(test_escape_round_trip)
{
	char in[256], buf[2048];
	json_t *j;

	for (int i = 0; i < 128; i++)
		in[i] = (char)i;
	write_one(in, 128, buf, sizeof(buf));
	j = json_loads(buf, JSON_ALLOW_NUL, NULL);
	assert_non_null(j);
	assert_int_equal(json_string_length(json_object_get(j, "k")), 128);
	assert_memory_equal(json_string_value(json_object_get(j, "k")), in, 128);
	json_decref(j);
}

/* One object written in a 320-byte buffer, then expect_object: it fits
 * and is want. */
static char object_buf[320];
static struct jv_json object_w;

static struct jv_json *object(void)
{
	jv_json_begin(&object_w, object_buf, sizeof(object_buf));
	return &object_w;
}

static void expect_object(const char *want)
{
	assert_true(jv_json_end(&object_w) > 0);
	assert_string_equal(object_buf, want);
}

JV_TEST(test_numbers)
{
	struct jv_json *w = object();

	jv_json_u64(w, "a", 0);
	jv_json_u64(w, "b", UINT64_MAX);
	jv_json_i64(w, "c", INT64_MIN);
	jv_json_i64(w, "d", -5);
	jv_json_i64(w, "e", INT64_MAX);
	jv_json_u64(w, "f", 1000000007);
	expect_object("{\"a\":0,\"b\":18446744073709551615,"
		      "\"c\":-9223372036854775808,\"d\":-5,"
		      "\"e\":9223372036854775807,\"f\":1000000007}");
}

JV_TEST(test_doubles_bools_null)
{
	struct jv_json *w = object();

	jv_json_double(w, "a", 0.25);
	jv_json_double(w, "b", 0.0);
	jv_json_double(w, "c", -1.5);
	jv_json_double(w, "d", 1.0 / 3.0);
	jv_json_double(w, "e", 12345.67891);
	jv_json_double(w, "f", NAN);
	jv_json_double(w, "g", INFINITY);
	jv_json_double(w, "h", -INFINITY);
	jv_json_bool(w, "i", true);
	jv_json_bool(w, "j", false);
	jv_json_null(w, "k");
	jv_json_str(w, "l", NULL);
	jv_json_double(w, "m", 1e20);
	expect_object("{\"a\":0.2500,\"b\":0.0000,\"c\":-1.5000,"
		      "\"d\":0.3333,\"e\":12345.6789,\"f\":null,"
		      "\"g\":null,\"h\":null,\"i\":true,\"j\":false,"
		      "\"k\":null,\"l\":null,"
		      "\"m\":100000000000000000000.0000}");
}

JV_TEST(test_empty_object)
{
	char buf[3];
	struct jv_json w;

	jv_json_begin(&w, buf, sizeof(buf));
	assert_int_equal(jv_json_end(&w), 2);
	assert_string_equal(buf, "{}");
	jv_json_begin(&w, buf, 2);   /* no room for "{}" and the NUL */
	assert_int_equal(jv_json_end(&w), -1);
}

/* {"k": value} in a 16-byte buffer: jv_json_end gives want_len, and the
 * buffer holds want when there is one (the object fits). */
static void str_in_16(const char *value, int want_len, const char *want)
{
	char buf[16];
	struct jv_json w;

	jv_json_begin(&w, buf, sizeof(buf));
	jv_json_str(&w, "k", value);
	assert_int_equal(jv_json_end(&w), want_len);
	if (want)
		assert_string_equal(buf, want);
}

JV_TEST(test_overflow_sticky)
{
	char buf[16];
	struct jv_json w;

	jv_json_begin(&w, buf, sizeof(buf));
	jv_json_str(&w, "key", "a long value that does not fit");
	jv_json_u64(&w, "x", 1);   /* would fit alone: still refused */
	assert_int_equal(jv_json_end(&w), -1);
	assert_true(w.overflow);
	/* {"k":"abcdefgh"} is 16 bytes + NUL = 17 > 16 */
	str_in_16("abcdefgh", -1, NULL);
	/* one less: exactly full, NUL included */
	str_in_16("abcdefg", 15, "{\"k\":\"abcdefg\"}");
	/* an escape is never cut in half: \u0001 needs 6 bytes */
	str_in_16("ab\x01", -1, NULL);
	str_in_16("a\x01", 15, "{\"k\":\"a\\u0001\"}");
}

JV_TEST(test_hex16)
{
	static const uint8_t id[16] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd,
					0xef, 0xff, 0x10, 0x20, 0x30, 0x40,
					0x5a, 0xa5, 0x09, 0x90 };
	char out[33];

	memset(out, 'Z', sizeof(out));
	jv_hex16(id, out);
	assert_string_equal(out, "00017f80abcdefff102030405aa50990");
}

struct sink {
	char lines[8][JV_EVENT_MAX];
	size_t len[8];
	int n;
};

static void on_line(void *ctx, const char *line, size_t len)
{
	struct sink *s = ctx;

	assert_true(s->n < 8);
	assert_true(len < JV_EVENT_MAX);
	/* NUL-terminated, no newline */
	assert_int_equal(strlen(line), len);
	assert_true(len > 0 && line[len - 1] == '}');
	memcpy(s->lines[s->n], line, len + 1);
	s->len[s->n++] = len;
}

/* The emitter under test and the lines it gave: one a test. */
static struct jv_audit audit;
static struct sink got;

static struct jv_audit *emitter(const char *node_id, enum jv_role role,
				const char *policy_version)
{
	memset(&got, 0, sizeof(got));
	jv_audit_init(&audit, node_id, role, policy_version, on_line, &got);
	return &audit;
}

/* An event with no fields of its own and no session. */
static void policy_loaded(struct jv_audit *a, uint64_t at)
{
	jv_audit_begin(a, at, "PolicyLoaded", NULL);
	jv_audit_end(a);
}

static const uint8_t SID[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
				 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
				 0xcc, 0xdd, 0xee, 0xff };

JV_TEST(test_emitter_field_order)
{
	struct jv_audit *a;
	struct jv_json *w;

	a = emitter("gw-1", JV_ROLE_SERVER, "1.0");
	a->ts_offset_ms = 1000;
	w = jv_audit_begin(a, 5, "KeyRotated", SID);
	jv_json_str(w, "reason_code", "time_elapsed");
	jv_json_u64(w, "key_epoch", 2);
	jv_audit_end(a);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.lines[0],
			    "{\"ts_ms\":1005,\"seq\":1,\"event_type\":\"KeyRotated\","
			    "\"node_id\":\"gw-1\",\"role\":\"server\","
			    "\"session_id\":\"00112233445566778899aabbccddeeff\","
			    "\"policy_version\":\"1.0\",\"reason_code\":\"time_elapsed\","
			    "\"key_epoch\":2}");
	/* a client, no session: session_id left out, not null */
	jv_audit_init(a, "lap\"top", JV_ROLE_CLIENT, "2.3", on_line, &got);
	policy_loaded(a, 7);
	assert_string_equal(got.lines[1],
			    "{\"ts_ms\":7,\"seq\":1,\"event_type\":\"PolicyLoaded\","
			    "\"node_id\":\"lap\\\"top\",\"role\":\"client\","
			    "\"policy_version\":\"2.3\"}");
}

JV_TEST(test_ts_offset)
{
	struct jv_audit *a;

	a = emitter("n", JV_ROLE_CLIENT, "1.0");
	a->ts_offset_ms = 1700000000000LL;   /* wall clock at the edge */
	policy_loaded(a, 250);
	a->ts_offset_ms = -100;
	policy_loaded(a, 250);
	policy_loaded(a, 50);   /* before 1970 */
	assert_non_null(strstr(got.lines[0], "{\"ts_ms\":1700000000250,\"seq\":1,"));
	assert_non_null(strstr(got.lines[1], "{\"ts_ms\":150,\"seq\":2,"));
	assert_non_null(strstr(got.lines[2], "{\"ts_ms\":0,\"seq\":3,"));
}

/* Extra bytes of a "detail" value that make the line exactly len long. */
static size_t detail_for(size_t len)
{
	/* {"ts_ms":9,"seq":N,...,"policy_version":"1.0"} + ,"detail":"" */
	static const char head[] =
		"{\"ts_ms\":9,\"seq\":1,\"event_type\":\"PolicyRejected\","
		"\"node_id\":\"n\",\"role\":\"server\",\"policy_version\":\"1.0\""
		",\"detail\":\"\"}";

	return len - (sizeof(head) - 1);
}

JV_TEST(test_truncated_keeps_seq)
{
	struct jv_audit *a;
	static char big[2 * JV_EVENT_MAX];
	struct jv_json *w;
	size_t fit = detail_for(JV_EVENT_MAX - 1);   /* longest line + NUL */

	memset(big, 'x', sizeof(big) - 1);
	a = emitter("n", JV_ROLE_SERVER, "1.0");
	/* seq 1: exactly the longest line that fits, emitted whole */
	w = jv_audit_begin(a, 9, "PolicyRejected", NULL);
	jv_json_strn(w, "detail", big, fit);
	jv_audit_end(a);
	assert_int_equal(got.len[0], JV_EVENT_MAX - 1);
	assert_null(strstr(got.lines[0], "truncated"));
	/* seq 2: one byte more, emitted with the common fields only */
	w = jv_audit_begin(a, 9, "PolicyRejected", NULL);
	jv_json_strn(w, "detail", big, fit + 1);
	jv_json_u64(w, "after", 1);
	jv_audit_end(a);
	assert_string_equal(got.lines[1],
			    "{\"ts_ms\":9,\"seq\":2,\"event_type\":\"PolicyRejected\","
			    "\"node_id\":\"n\",\"role\":\"server\","
			    "\"policy_version\":\"1.0\",\"truncated\":true}");
	/* seq 3: with a session, the session_id survives truncation */
	w = jv_audit_begin(a, 10, "SessionTerminated", SID);
	jv_json_str(w, "reason_code", big);
	jv_audit_end(a);
	assert_string_equal(got.lines[2],
			    "{\"ts_ms\":10,\"seq\":3,\"event_type\":\"SessionTerminated\","
			    "\"node_id\":\"n\",\"role\":\"server\","
			    "\"session_id\":\"00112233445566778899aabbccddeeff\","
			    "\"policy_version\":\"1.0\",\"truncated\":true}");
	/* seq 4: the next event is back to normal, no gap */
	policy_loaded(a, 11);
	assert_string_equal(got.lines[3],
			    "{\"ts_ms\":11,\"seq\":4,\"event_type\":\"PolicyLoaded\","
			    "\"node_id\":\"n\",\"role\":\"server\","
			    "\"policy_version\":\"1.0\"}");
	assert_int_equal(got.n, 4);
	assert_int_equal(a->seq, 4);
}

/* The worst-case common fields (every byte escaped) still fit, so the
 * truncated fallback is always emitted. */
JV_TEST(test_truncated_worst_case)
{
	struct jv_audit *a;
	static char big[JV_EVENT_MAX];
	char node[64], ver[16];
	struct jv_json *w;
	json_t *j;

	memset(node, 0x01, sizeof(node) - 1);
	node[sizeof(node) - 1] = '\0';
	memset(ver, 0x1f, sizeof(ver) - 1);
	ver[sizeof(ver) - 1] = '\0';
	memset(big, 'x', sizeof(big) - 1);
	a = emitter(node, JV_ROLE_CLIENT, ver);
	w = jv_audit_begin(a, 1, "SecurityValidationFailed", SID);
	jv_json_str(w, "detail", big);
	jv_audit_end(a);
	assert_int_equal(got.n, 1);
	j = json_loads(got.lines[0], 0, NULL);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "truncated")));
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 1);
	assert_int_equal(strlen(json_string_value(json_object_get(j, "node_id"))),
			 63);
	json_decref(j);
}

/* A started run: run_id and run_start_ms right after seq on every event
 * (the truncated fallback included); run_start_ms is edge time like
 * ts_ms; a new run starts seq at 1 again. */
JV_TEST(test_run_fields)
{
	struct jv_audit *a;
	static const uint8_t RUN[JV_RUN_ID_LEN] = { 0x01, 0x23, 0x45, 0x67,
						    0x89, 0xab, 0xcd, 0xef };
	static const uint8_t RUN2[JV_RUN_ID_LEN] = { 0xff, 0, 0, 0,
						     0, 0, 0, 0x10 };
	static char big[JV_EVENT_MAX];
	struct jv_json *w;

	memset(big, 'x', sizeof(big) - 1);
	a = emitter("gw-1", JV_ROLE_SERVER, "1.0");
	a->ts_offset_ms = 1700000000000LL;
	jv_audit_start_run(a, RUN, 40);
	w = jv_audit_begin(a, 45, "KeyRotated", SID);
	jv_json_u64(w, "key_epoch", 2);
	jv_audit_end(a);
	w = jv_audit_begin(a, 46, "PolicyRejected", NULL);
	jv_json_str(w, "detail", big);
	jv_audit_end(a);
	jv_audit_start_run(a, RUN2, 50);
	policy_loaded(a, 50);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.lines[0],
			    "{\"ts_ms\":1700000000045,\"seq\":1,"
			    "\"run_id\":\"0123456789abcdef\","
			    "\"run_start_ms\":1700000000040,"
			    "\"event_type\":\"KeyRotated\","
			    "\"node_id\":\"gw-1\",\"role\":\"server\","
			    "\"session_id\":\"00112233445566778899aabbccddeeff\","
			    "\"policy_version\":\"1.0\",\"key_epoch\":2}");
	assert_string_equal(got.lines[1],
			    "{\"ts_ms\":1700000000046,\"seq\":2,"
			    "\"run_id\":\"0123456789abcdef\","
			    "\"run_start_ms\":1700000000040,"
			    "\"event_type\":\"PolicyRejected\","
			    "\"node_id\":\"gw-1\",\"role\":\"server\","
			    "\"policy_version\":\"1.0\",\"truncated\":true}");
	assert_string_equal(got.lines[2],
			    "{\"ts_ms\":1700000000050,\"seq\":1,"
			    "\"run_id\":\"ff00000000000010\","
			    "\"run_start_ms\":1700000000050,"
			    "\"event_type\":\"PolicyLoaded\","
			    "\"node_id\":\"gw-1\",\"role\":\"server\","
			    "\"policy_version\":\"1.0\"}");
}
