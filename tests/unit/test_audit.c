/* Audit events: JSON escaping, numbers, overflow, and the emitter's common
 * fields, exact order and gapless seq. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/audit.h"

static void test_escaping(void **state)
{
	char buf[256];
	struct jv_json w;
	char in[40];
	size_t n = 0;

	(void)state;
	in[n++] = '"';
	in[n++] = '\\';
	in[n++] = '\n';
	in[n++] = '\t';
	in[n++] = '\r';
	in[n++] = '\b';
	in[n++] = '\f';
	in[n++] = 0x01;
	in[n++] = 0x1f;
	in[n++] = 'a';
	in[n++] = (char)0xc3;   /* UTF-8 passes through */
	in[n++] = (char)0xa9;
	jv_json_begin(&w, buf, sizeof(buf));
	jv_json_strn(&w, "k", in, n);
	assert_true(jv_json_end(&w) > 0);
	assert_string_equal(buf, "{\"k\":\"\\\"\\\\\\n\\t\\r\\b\\f\\u0001\\u001fa\xc3\xa9\"}");
}

static void test_every_control_char(void **state)
{
	char buf[64], in[1], want[64];
	struct jv_json w;

	(void)state;
	for (int c = 0; c < 0x20; c++) {
		in[0] = (char)c;
		jv_json_begin(&w, buf, sizeof(buf));
		jv_json_strn(&w, "k", in, 1);
		assert_true(jv_json_end(&w) > 0);
		/* whatever the form, no raw control byte survives */
		for (size_t i = 0; buf[i]; i++)
			assert_true((unsigned char)buf[i] >= 0x20);
		if (c != '\n' && c != '\t' && c != '\r' && c != '\b' &&
		    c != '\f') {
			snprintf(want, sizeof(want), "{\"k\":\"\\u%04x\"}", c);
			assert_string_equal(buf, want);
		}
	}
}

static void test_numbers(void **state)
{
	char buf[256];
	struct jv_json w;

	(void)state;
	jv_json_begin(&w, buf, sizeof(buf));
	jv_json_u64(&w, "a", 0);
	jv_json_u64(&w, "b", UINT64_MAX);
	jv_json_i64(&w, "c", INT64_MIN);
	jv_json_i64(&w, "d", -5);
	jv_json_double(&w, "e", 0.25);
	jv_json_double(&w, "f", NAN);
	jv_json_bool(&w, "g", true);
	jv_json_bool(&w, "h", false);
	jv_json_null(&w, "i");
	assert_true(jv_json_end(&w) > 0);
	assert_string_equal(buf,
			    "{\"a\":0,\"b\":18446744073709551615,"
			    "\"c\":-9223372036854775808,\"d\":-5,"
			    "\"e\":0.2500,\"f\":null,\"g\":true,\"h\":false,"
			    "\"i\":null}");
}

static void test_overflow_sticky(void **state)
{
	char buf[16];
	struct jv_json w;

	(void)state;
	jv_json_begin(&w, buf, sizeof(buf));
	jv_json_str(&w, "key", "a long value that does not fit");
	jv_json_u64(&w, "x", 1);   /* would fit alone: still refused */
	assert_int_equal(jv_json_end(&w), -1);
	/* exactly full: {"k":"abcdefgh"} is 16 bytes + NUL = 17 > 16 */
	jv_json_begin(&w, buf, sizeof(buf));
	jv_json_str(&w, "k", "abcdefgh");
	assert_int_equal(jv_json_end(&w), -1);
	jv_json_begin(&w, buf, sizeof(buf));
	jv_json_str(&w, "k", "abcdefg");
	assert_int_equal(jv_json_end(&w), 15);
	assert_string_equal(buf, "{\"k\":\"abcdefg\"}");
}

struct sink {
	char lines[8][JV_EVENT_MAX];
	int n;
};

static void on_line(void *ctx, const char *line, size_t len)
{
	struct sink *s = ctx;

	assert_true(s->n < 8);
	assert_int_equal(strlen(line), len);
	memcpy(s->lines[s->n++], line, len + 1);
}

static void test_emitter(void **state)
{
	static struct jv_audit a;
	struct sink s = { .n = 0 };
	uint8_t sid[16];
	struct jv_json *w;
	char big[JV_EVENT_MAX];

	(void)state;
	for (int i = 0; i < 16; i++)
		sid[i] = (uint8_t)(i * 17);
	jv_audit_init(&a, "gw-1", JV_ROLE_SERVER, "1.0", on_line, &s);
	a.ts_offset_ms = 1000;
	w = jv_audit_begin(&a, 5, "KeyRotated", sid);
	jv_json_str(w, "reason_code", "time_elapsed");
	jv_audit_end(&a);
	assert_string_equal(s.lines[0],
			    "{\"ts_ms\":1005,\"seq\":1,\"event_type\":\"KeyRotated\","
			    "\"node_id\":\"gw-1\",\"role\":\"server\","
			    "\"session_id\":\"00112233445566778899aabbccddeeff\","
			    "\"policy_version\":\"1.0\",\"reason_code\":\"time_elapsed\"}");
	/* no session: no session_id */
	jv_audit_begin(&a, 6, "PolicyLoaded", NULL);
	jv_audit_end(&a);
	assert_null(strstr(s.lines[1], "session_id"));
	assert_non_null(strstr(s.lines[1], "\"seq\":2,"));
	/* too long: same seq, common fields, flagged, still valid */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	w = jv_audit_begin(&a, 7, "PolicyRejected", NULL);
	jv_json_str(w, "detail", big);
	jv_audit_end(&a);
	assert_string_equal(s.lines[2],
			    "{\"ts_ms\":1007,\"seq\":3,\"event_type\":\"PolicyRejected\","
			    "\"node_id\":\"gw-1\",\"role\":\"server\","
			    "\"policy_version\":\"1.0\",\"truncated\":true}");
	jv_audit_begin(&a, 8, "PolicyLoaded", NULL);
	jv_audit_end(&a);
	assert_non_null(strstr(s.lines[3], "\"seq\":4,"));
	assert_int_equal(s.n, 4);
}

static void test_hex16(void **state)
{
	uint8_t id[16];
	char out[33];

	(void)state;
	memset(id, 0xaf, 16);
	jv_hex16(id, out);
	assert_string_equal(out, "afafafafafafafafafafafafafafafaf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_every_control_char),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_overflow_sticky),
		cmocka_unit_test(test_emitter),
		cmocka_unit_test(test_hex16),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
