/* Policy schema (CONTRACT section 3) and the YAML helpers under it: every
 * kind of mistake is refused with its code, exact message and line. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"
#include "core/yamlx.h"
#include "tests/unit/unit.h"

#define FILE_NAME "t.yaml"

static char *read_data(const char *name, size_t *len)
{
	const char *dir = getenv("JV_TESTDATA");
	char path[512];
	char *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/policy/%s", dir ? dir : "tests/data",
		 name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (set JV_TESTDATA)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int parse_str(struct jv_policy *p, const char *text, bool require_all,
		     struct jv_error *err)
{
	return jv_policy_parse(p, text, strlen(text), FILE_NAME, require_all,
			       err);
}

static int parse_file(struct jv_policy *p, const char *name,
		      bool require_all, struct jv_error *err)
{
	size_t len;
	char *buf = read_data(name, &len);
	int rc = jv_policy_parse(p, buf, len, name, require_all, err);

	free(buf);
	return rc;
}

/* Field by field: a wrong offset in the schema table shows up here. */
static void assert_policy_eq(const struct jv_policy *a,
			     const struct jv_policy *b)
{
	assert_string_equal(a->version, b->version);
	assert_int_equal(a->max_lifetime_ms, b->max_lifetime_ms);
	assert_int_equal(a->transport_lost_ttl_ms, b->transport_lost_ttl_ms);
	assert_int_equal(a->heartbeat_interval_ms, b->heartbeat_interval_ms);
	assert_int_equal(a->heartbeat_volatile_ms, b->heartbeat_volatile_ms);
	assert_int_equal(a->loss_window_ms, b->loss_window_ms);
	assert_true(a->loss_volatile_threshold == b->loss_volatile_threshold);
	assert_int_equal(a->max_consecutive_drops, b->max_consecutive_drops);
	assert_int_equal(a->volatile_to_degraded_ms,
			 b->volatile_to_degraded_ms);
	assert_int_equal(a->latency_volatile_threshold_ms,
			 b->latency_volatile_threshold_ms);
	assert_int_equal(a->data_silence_rtts, b->data_silence_rtts);
	assert_int_equal(a->data_silence_floor_ms, b->data_silence_floor_ms);
	assert_int_equal(a->max_switches_per_min, b->max_switches_per_min);
	assert_int_equal(a->switch_cooldown_ms, b->switch_cooldown_ms);
	assert_int_equal(a->recovery_window_ms, b->recovery_window_ms);
	assert_true(a->switch_improvement_factor ==
		    b->switch_improvement_factor);
	assert_int_equal(a->failback_after_ms, b->failback_after_ms);
	assert_int_equal(a->resend_max_bytes, b->resend_max_bytes);
	assert_int_equal(a->allowed_protocols, b->allowed_protocols);
	assert_int_equal(a->max_candidate_count, b->max_candidate_count);
	assert_int_equal(a->probe_interval_ms, b->probe_interval_ms);
	assert_int_equal(a->enforce_hysteresis, b->enforce_hysteresis);
	assert_int_equal(a->reattach_proof_max_age_ms,
			 b->reattach_proof_max_age_ms);
	assert_int_equal(a->replay_window_size, b->replay_window_size);
	assert_int_equal(a->max_reattach_failures, b->max_reattach_failures);
	assert_int_equal(a->rekey_after_ms, b->rekey_after_ms);
	assert_int_equal(a->emit_switch_metrics, b->emit_switch_metrics);
	assert_int_equal(a->emit_security_events, b->emit_security_events);
	assert_int_equal(a->include_latency_metrics,
			 b->include_latency_metrics);
}

/* The values of tests/data/policy/tuned.yaml: none is a default. */
static void tuned(struct jv_policy *p)
{
	jv_policy_defaults(p);
	snprintf(p->version, sizeof(p->version), "1.2");
	p->max_lifetime_ms = 3600000;
	p->transport_lost_ttl_ms = 30000;
	p->heartbeat_interval_ms = 250;
	p->heartbeat_volatile_ms = 1000;
	p->loss_window_ms = 4000;
	p->loss_volatile_threshold = 0.35;
	p->max_consecutive_drops = 5;
	p->volatile_to_degraded_ms = 6000;
	p->latency_volatile_threshold_ms = 300;
	p->data_silence_rtts = 6;
	p->data_silence_floor_ms = 250;
	p->max_switches_per_min = 4;
	p->switch_cooldown_ms = 0;
	p->recovery_window_ms = 12000;
	p->switch_improvement_factor = 1.5;
	p->failback_after_ms = 30000;
	p->resend_max_bytes = 65536;
	p->allowed_protocols = JV_PROTO_TCP;
	p->max_candidate_count = 8;
	p->probe_interval_ms = 250;
	p->enforce_hysteresis = false;
	p->reattach_proof_max_age_ms = 2000;
	p->replay_window_size = 1024;
	p->max_reattach_failures = 10;
	p->rekey_after_ms = 600000;
	p->emit_switch_metrics = false;
	p->emit_security_events = false;
	p->include_latency_metrics = false;
}

/* Parses text over the defaults and expects exactly this error; the
 * policy must come back untouched. */
static void expect_error(const char *text, bool require_all, int code,
			 int line, const char *msg)
{
	struct jv_policy p, before;
	struct jv_error err;

	tuned(&p);
	before = p;
	memset(&err, 0, sizeof(err));
	assert_int_equal(parse_str(&p, text, require_all, &err), code);
	assert_string_equal(err.file, FILE_NAME);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.line, line);
	assert_policy_eq(&p, &before);
}

JV_TEST(test_defaults)
{
	struct jv_policy p;
	struct jv_error err;

	memset(&p, 0xa5, sizeof(p));
	jv_policy_defaults(&p);
	assert_string_equal(p.version, "1.0");
	assert_int_equal(p.max_lifetime_ms, 28800000);
	assert_int_equal(p.transport_lost_ttl_ms, 15000);
	assert_int_equal(p.heartbeat_interval_ms, 500);
	assert_int_equal(p.heartbeat_volatile_ms, 2000);
	assert_int_equal(p.loss_window_ms, 2000);
	assert_true(p.loss_volatile_threshold == 0.20);
	assert_int_equal(p.max_consecutive_drops, 3);
	assert_int_equal(p.volatile_to_degraded_ms, 4000);
	assert_int_equal(p.latency_volatile_threshold_ms, 0);
	assert_int_equal(p.data_silence_rtts, 4);
	assert_int_equal(p.data_silence_floor_ms, 100);
	assert_int_equal(p.max_switches_per_min, 8);
	assert_int_equal(p.switch_cooldown_ms, 1500);
	assert_int_equal(p.recovery_window_ms, 8000);
	assert_true(p.switch_improvement_factor == 1.10);
	assert_int_equal(p.failback_after_ms, 0);
	assert_int_equal(p.resend_max_bytes, 262144);
	assert_int_equal(p.allowed_protocols, JV_PROTO_UDP | JV_PROTO_TCP);
	assert_int_equal(p.max_candidate_count, 3);
	assert_int_equal(p.probe_interval_ms, 1000);
	assert_true(p.enforce_hysteresis);
	assert_int_equal(p.reattach_proof_max_age_ms, 5000);
	assert_int_equal(p.replay_window_size, 2048);
	assert_int_equal(p.max_reattach_failures, 3);
	assert_int_equal(p.rekey_after_ms, 120000);
	assert_true(p.emit_switch_metrics);
	assert_true(p.emit_security_events);
	assert_true(p.include_latency_metrics);
	assert_int_equal(jv_policy_validate(&p, FILE_NAME, &err), 0);
}

/* valid.yaml holds the contract's values: parsed over a policy where every
 * value differs, it must give back exactly the defaults. */
JV_TEST(test_valid_file)
{
	struct jv_policy p, want;
	struct jv_error err;

	tuned(&p);
	jv_policy_defaults(&want);
	assert_int_equal(parse_file(&p, "valid.yaml", true, &err), 0);
	assert_policy_eq(&p, &want);
	assert_int_equal(jv_policy_validate(&p, "valid.yaml", &err), 0);
}

JV_TEST(test_tuned_file)
{
	struct jv_policy p, want;
	struct jv_error err;

	jv_policy_defaults(&p);
	tuned(&want);
	assert_int_equal(parse_file(&p, "tuned.yaml", true, &err), 0);
	assert_policy_eq(&p, &want);
	assert_int_equal(jv_policy_validate(&p, "tuned.yaml", &err), 0);
}

JV_TEST(test_minimal_file)
{
	struct jv_policy p, want;
	struct jv_error err;

	jv_policy_defaults(&p);
	jv_policy_defaults(&want);
	want.max_lifetime_ms = 3600000;
	want.transport_lost_ttl_ms = 20000;
	want.loss_volatile_threshold = 0.5;
	want.max_switches_per_min = 4;
	want.recovery_window_ms = 9000;
	want.reattach_proof_max_age_ms = 3000;
	assert_int_equal(parse_file(&p, "minimal.yaml", true, &err), 0);
	assert_policy_eq(&p, &want);
	assert_int_equal(jv_policy_validate(&p, "minimal.yaml", &err), 0);
}

JV_TEST(test_unknown_key)
{
	struct jv_policy p;
	struct jv_error err;

	jv_policy_defaults(&p);
	assert_int_equal(parse_file(&p, "unknown-key.yaml", true, &err),
			 JV_ERR_INVAL);
	assert_string_equal(err.file, "unknown-key.yaml");
	assert_int_equal(err.line, 6);
	assert_string_equal(err.msg,
			    "volatility.heartbeat_intervl_ms: unknown key");
	/* the same key in another section is still unknown there */
	expect_error("version: \"1.0\"\nsession:\n  heartbeat_interval_ms: 5\n",
		     false, JV_ERR_INVAL, 3,
		     "session.heartbeat_interval_ms: unknown key (did you mean volatility.heartbeat_interval_ms?)");
}

JV_TEST(test_unknown_section)
{
	expect_error("version: \"1.0\"\nsecurty:\n  rekey_after_ms: 5000\n",
		     false, JV_ERR_INVAL, 2, "securty: unknown key");
	/* a key at the wrong level is pointed at its section */
	expect_error("session: {}\nmax_lifetime_ms: 5000\n", false,
		     JV_ERR_INVAL, 2,
		     "max_lifetime_ms: unknown key (did you mean session.max_lifetime_ms?)");
	/* control bytes in a name never reach the message */
	expect_error("\"a\\x1b[2Jb\": 1\n", false, JV_ERR_INVAL, 1,
		     "a?[2Jb: unknown key");
}

JV_TEST(test_duplicate_key)
{
	expect_error("session:\n  max_lifetime_ms: 5000\n  max_lifetime_ms: 6000\n",
		     false, JV_ERR_INVAL, 3,
		     "session.max_lifetime_ms: duplicate key (first at line 2)");
	expect_error("version: \"1.0\"\nversion: \"1.1\"\n", false,
		     JV_ERR_INVAL, 2,
		     "version: duplicate key (first at line 1)");
	/* a section written twice would otherwise merge or shadow silently */
	expect_error("session:\n  max_lifetime_ms: 5000\nswitching: {}\nsession:\n  transport_lost_ttl_ms: 200\n",
		     false, JV_ERR_INVAL, 4,
		     "session: duplicate key (first at line 1)");
}

static const char *const minimal_lines[] = {
	"version: \"1.0\"\n",			/* 1 */
	"session:\n",				/* 2 */
	"  max_lifetime_ms: 28800000\n",	/* 3 */
	"  transport_lost_ttl_ms: 15000\n",	/* 4 */
	"volatility:\n",			/* 5 */
	"  loss_volatile_threshold: 0.2\n",	/* 6 */
	"switching:\n",				/* 7 */
	"  max_switches_per_min: 8\n",		/* 8 */
	"  recovery_window_ms: 8000\n",		/* 9 */
	"security:\n",				/* 10 */
	"  reattach_proof_max_age_ms: 5000\n",	/* 11 */
};

static void build_without(char *buf, size_t cap, int drop)
{
	buf[0] = '\0';
	for (int i = 0; i < 11; i++)
		if (i + 1 != drop)
			strncat(buf, minimal_lines[i], cap - strlen(buf) - 1);
}

JV_TEST(test_missing_required)
{
	/* all seven keys the contract marks required; the error points at the
	 * section the key belongs in (the document's first line for the
	 * top-level version) */
	static const struct { int drop, line; const char *key; } rows[] = {
		{ 1, 1, "version" },
		{ 3, 2, "session.max_lifetime_ms" },
		{ 4, 2, "session.transport_lost_ttl_ms" },
		{ 6, 5, "volatility.loss_volatile_threshold" },
		{ 8, 7, "switching.max_switches_per_min" },
		{ 9, 7, "switching.recovery_window_ms" },
		{ 11, 10, "security.reattach_proof_max_age_ms" },
	};
	struct jv_policy p;
	struct jv_error err;
	char text[512], msg[128];

	build_without(text, sizeof(text), 0);
	jv_policy_defaults(&p);
	assert_int_equal(parse_str(&p, text, true, &err), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		build_without(text, sizeof(text), rows[i].drop);
		snprintf(msg, sizeof(msg), "%s: required key missing",
			 rows[i].key);
		expect_error(text, true, JV_ERR_INVAL, rows[i].line, msg);
		/* an override file needs none of them */
		jv_policy_defaults(&p);
		assert_int_equal(parse_str(&p, text, false, &err), 0);
	}
	/* a whole section missing: the mapping it belongs in */
	expect_error("version: \"1.0\"\nsession: {max_lifetime_ms: 28800000, transport_lost_ttl_ms: 15000}\n",
		     true, JV_ERR_INVAL, 1,
		     "volatility.loss_volatile_threshold: required key missing");
}

enum kind { K64, K32 };

static const struct bound {
	const char *sec, *key;
	enum kind kind;
	size_t off;
	uint64_t min, max;
} bounds[] = {
#define B(sec, key, kind, lo, hi) \
	{ sec, #key, kind, offsetof(struct jv_policy, key), lo, hi }
	B("session", max_lifetime_ms, K64, 1000, 604800000),
	B("session", transport_lost_ttl_ms, K64, 100, 86400000),
	B("volatility", heartbeat_interval_ms, K64, 10, 60000),
	B("volatility", heartbeat_volatile_ms, K64, 20, 600000),
	B("volatility", loss_window_ms, K64, 100, 600000),
	B("volatility", max_consecutive_drops, K32, 1, 1000),
	B("volatility", volatile_to_degraded_ms, K64, 10, 600000),
	B("volatility", latency_volatile_threshold_ms, K64, 0, 600000),
	B("volatility", data_silence_rtts, K32, 0, 100),
	B("volatility", data_silence_floor_ms, K64, 10, 60000),
	B("switching", max_switches_per_min, K32, 1, 64),
	B("switching", switch_cooldown_ms, K64, 0, 600000),
	B("switching", recovery_window_ms, K64, 100, 600000),
	B("switching", failback_after_ms, K64, 0, 600000),
	B("switching", resend_max_bytes, K32, 0, 16777216),
	B("transport", max_candidate_count, K32, 1, 16),
	B("transport", probe_interval_ms, K64, 10, 600000),
	B("security", reattach_proof_max_age_ms, K64, 100, 600000),
	B("security", replay_window_size, K32, 64, 2048),
	B("security", max_reattach_failures, K32, 1, 100),
	B("security", rekey_after_ms, K64, 1000, 86400000),
#undef B
};

static uint64_t read_u(const struct jv_policy *p, const struct bound *b)
{
	const char *at = (const char *)p + b->off;

	if (b->kind == K64)
		return *(const uint64_t *)at;
	return *(const uint32_t *)at;
}

static void accept_value(const struct bound *b, uint64_t v)
{
	struct jv_policy p;
	struct jv_error err;
	char text[128];

	snprintf(text, sizeof(text), "%s:\n  %s: %" PRIu64 "\n", b->sec,
		 b->key, v);
	jv_policy_defaults(&p);
	if (parse_str(&p, text, false, &err) != 0)
		fail_msg("%s.%s = %" PRIu64 " refused: %s", b->sec, b->key, v,
			 err.msg);
	assert_int_equal(read_u(&p, b), v);
}

static void refuse_value(const struct bound *b, const char *v)
{
	char text[128], msg[160];

	snprintf(text, sizeof(text), "%s:\n  %s: %s\n", b->sec, b->key, v);
	snprintf(msg, sizeof(msg),
		 "%s.%s: value %s out of range (allowed %" PRIu64 "..%" PRIu64 ")",
		 b->sec, b->key, v, b->min, b->max);
	expect_error(text, false, JV_ERR_RANGE, 2, msg);
}

JV_TEST(test_integer_bounds)
{
	char v[32];

	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		const struct bound *b = &bounds[i];

		accept_value(b, b->min);
		accept_value(b, b->max);
		if (b->min > 0)
			snprintf(v, sizeof(v), "%" PRIu64, b->min - 1);
		else
			snprintf(v, sizeof(v), "-1");
		refuse_value(b, v);
		snprintf(v, sizeof(v), "%" PRIu64, b->max + 1);
		refuse_value(b, v);
	}
	/* beyond 64 bits and beyond 32 bits are range errors too */
	refuse_value(&bounds[0], "18446744073709551616");
	refuse_value(&bounds[8], "4294967297");
}

JV_TEST(test_double_bounds)
{
	struct jv_policy p;
	struct jv_error err;

	expect_error("volatility:\n  loss_volatile_threshold: 0\n", false,
		     JV_ERR_RANGE, 2,
		     "volatility.loss_volatile_threshold: value 0 out of range (allowed 0..1, 0 excluded)");
	expect_error("volatility:\n  loss_volatile_threshold: 1.01\n", false,
		     JV_ERR_RANGE, 2,
		     "volatility.loss_volatile_threshold: value 1.01 out of range (allowed 0..1, 0 excluded)");
	expect_error("volatility:\n  loss_volatile_threshold: -0.5\n", false,
		     JV_ERR_RANGE, 2,
		     "volatility.loss_volatile_threshold: value -0.5 out of range (allowed 0..1, 0 excluded)");
	expect_error("switching:\n  switch_improvement_factor: 0.99\n", false,
		     JV_ERR_RANGE, 2,
		     "switching.switch_improvement_factor: value 0.99 out of range (allowed 1..10)");
	expect_error("switching:\n  switch_improvement_factor: 10.01\n", false,
		     JV_ERR_RANGE, 2,
		     "switching.switch_improvement_factor: value 10.01 out of range (allowed 1..10)");
	jv_policy_defaults(&p);
	assert_int_equal(parse_str(&p, "volatility: {loss_volatile_threshold: 1}\nswitching: {switch_improvement_factor: 1.0}\n",
				   false, &err), 0);
	assert_true(p.loss_volatile_threshold == 1.0);
	assert_true(p.switch_improvement_factor == 1.0);
	assert_int_equal(parse_str(&p, "volatility: {loss_volatile_threshold: 1e-3}\nswitching: {switch_improvement_factor: 10}\n",
				   false, &err), 0);
	assert_true(p.loss_volatile_threshold == 0.001);
	assert_true(p.switch_improvement_factor == 10.0);
}

JV_TEST(test_replay_window_multiple)
{
	expect_error("security:\n  replay_window_size: 100\n", false,
		     JV_ERR_RANGE, 2,
		     "security.replay_window_size: value 100 is not a multiple of 64");
	expect_error("security:\n  replay_window_size: 2047\n", false,
		     JV_ERR_RANGE, 2,
		     "security.replay_window_size: value 2047 is not a multiple of 64");
}

JV_TEST(test_negative_number)
{
	expect_error("session:\n  max_lifetime_ms: -5000\n", false,
		     JV_ERR_RANGE, 2,
		     "session.max_lifetime_ms: value -5000 out of range (allowed 1000..604800000)");
}

JV_TEST(test_wrong_types)
{
	expect_error("session:\n  max_lifetime_ms: 1.5\n", false, JV_ERR_INVAL,
		     2, "session.max_lifetime_ms: expected an integer, got '1.5'");
	expect_error("session:\n  max_lifetime_ms: \"5000\"\n", false,
		     JV_ERR_INVAL, 2,
		     "session.max_lifetime_ms: expected an integer, got the quoted string \"5000\"");
	expect_error("session:\n  max_lifetime_ms: 0x1000\n", false,
		     JV_ERR_INVAL, 2,
		     "session.max_lifetime_ms: expected an integer, got '0x1000'");
	expect_error("session:\n  max_lifetime_ms:\n", false, JV_ERR_INVAL, 2,
		     "session.max_lifetime_ms: expected an integer, got an empty value");
	expect_error("switching:\n  max_switches_per_min: [8]\n", false,
		     JV_ERR_INVAL, 2,
		     "switching.max_switches_per_min: expected an integer, got a list");
	expect_error("volatility:\n  loss_volatile_threshold: high\n", false,
		     JV_ERR_INVAL, 2,
		     "volatility.loss_volatile_threshold: expected a number, got 'high'");
	expect_error("volatility:\n  loss_volatile_threshold: '0.5'\n", false,
		     JV_ERR_INVAL, 2,
		     "volatility.loss_volatile_threshold: expected a number, got the quoted string \"0.5\"");
	expect_error("volatility:\n  loss_volatile_threshold: .nan\n", false,
		     JV_ERR_INVAL, 2,
		     "volatility.loss_volatile_threshold: expected a number, got '.nan'");
	expect_error("transport:\n  enforce_hysteresis: {a: 1}\n", false,
		     JV_ERR_INVAL, 2,
		     "transport.enforce_hysteresis: expected true or false, got a mapping");
}

JV_TEST(test_bad_bool)
{
	expect_error("observability:\n  emit_switch_metrics: yes\n", false,
		     JV_ERR_INVAL, 2,
		     "observability.emit_switch_metrics: expected true or false, got 'yes'");
	expect_error("observability:\n  emit_switch_metrics: \"true\"\n", false,
		     JV_ERR_INVAL, 2,
		     "observability.emit_switch_metrics: expected true or false, got the quoted string \"true\"");
	expect_error("observability:\n  emit_switch_metrics: True\n", false,
		     JV_ERR_INVAL, 2,
		     "observability.emit_switch_metrics: expected true or false, got 'True'");
}

JV_TEST(test_protocols)
{
	struct jv_policy p;
	struct jv_error err;

	expect_error("transport:\n  allowed_protocols: [udp, quic]\n", false,
		     JV_ERR_INVAL, 2,
		     "transport.allowed_protocols: unknown protocol 'quic' (allowed udp, tcp)");
	expect_error("transport:\n  allowed_protocols:\n    - tcp\n    - UDP\n",
		     false, JV_ERR_INVAL, 4,
		     "transport.allowed_protocols: unknown protocol 'UDP' (allowed udp, tcp)");
	expect_error("transport:\n  allowed_protocols: []\n", false,
		     JV_ERR_INVAL, 2,
		     "transport.allowed_protocols: empty list (name at least one of udp, tcp)");
	expect_error("transport:\n  allowed_protocols: [tcp, udp, tcp]\n",
		     false, JV_ERR_INVAL, 2,
		     "transport.allowed_protocols: tcp listed twice");
	expect_error("transport:\n  allowed_protocols: udp\n", false,
		     JV_ERR_INVAL, 2,
		     "transport.allowed_protocols: expected a list of protocols such as [udp, tcp], got 'udp'");
	expect_error("transport:\n  allowed_protocols: [[udp]]\n", false,
		     JV_ERR_INVAL, 2,
		     "transport.allowed_protocols: expected a list of protocols such as [udp, tcp], got a list");
	jv_policy_defaults(&p);
	assert_int_equal(parse_str(&p, "transport: {allowed_protocols: [udp]}\n",
				   false, &err), 0);
	assert_int_equal(p.allowed_protocols, JV_PROTO_UDP);
	assert_int_equal(parse_str(&p, "transport: {allowed_protocols: [\"tcp\", udp]}\n",
				   false, &err), 0);
	assert_int_equal(p.allowed_protocols, JV_PROTO_UDP | JV_PROTO_TCP);
}

JV_TEST(test_version)
{
	static const char *const bad[] = {
		"1", "\"1\"", "1.x", "v1.0", "1.", ".1", "1.2.3", "\"\"",
		"-1.0", "\"1.0 \"", "\"12345678901234.5\"", "[1.0]",
	};
	static const char *const got[] = {
		"'1'", "the quoted string \"1\"", "'1.x'", "'v1.0'", "'1.'",
		"'.1'", "'1.2.3'", "the quoted string \"\"", "'-1.0'",
		"the quoted string \"1.0 \"",
		"the quoted string \"12345678901234.5\"", "a list",
	};
	struct jv_policy p;
	struct jv_error err;
	char text[64], msg[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "version: %s\n", bad[i]);
		snprintf(msg, sizeof(msg),
			 "version: expected a version string \"X.Y\", got %s",
			 got[i]);
		expect_error(text, false, JV_ERR_INVAL, 1, msg);
	}
	jv_policy_defaults(&p);
	assert_int_equal(parse_str(&p, "version: '2.10'\n", false, &err), 0);
	assert_string_equal(p.version, "2.10");
	assert_int_equal(parse_str(&p, "version: 1.0\n", false, &err), 0);
	assert_string_equal(p.version, "1.0");
	assert_int_equal(parse_str(&p, "version: \"1234567890123.4\"\n",
				   false, &err), 0);
	assert_string_equal(p.version, "1234567890123.4");
}

JV_TEST(test_syntax_error)
{
	struct jv_policy p, before;
	struct jv_error err;

	jv_policy_defaults(&p);
	before = p;
	assert_int_equal(parse_file(&p, "syntax-error.yaml", true, &err),
			 JV_ERR_INVAL);
	assert_string_equal(err.file, "syntax-error.yaml");
	assert_int_equal(err.line, 5);
	assert_string_equal(err.msg,
			    "YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence)");
	assert_policy_eq(&p, &before);
	expect_error("session:\n  max_lifetime_ms: 1\n bad: 2\n", false,
		     JV_ERR_INVAL, 3,
		     "YAML syntax error: did not find expected key (while parsing a block mapping)");
	expect_error("session: *nowhere\n", false, JV_ERR_INVAL, 1,
		     "YAML syntax error: found undefined alias");
	/* libyaml loads one document; a second one must not be ignored */
	expect_error("version: \"1.0\"\n---\nversion: \"2.0\"\n", false,
		     JV_ERR_INVAL, 2, "more than one YAML document");
	expect_error("version: \"1.0\"\n...\n]]\n", false, JV_ERR_INVAL, 3,
		     "YAML syntax error: did not find expected <document start>");
}

JV_TEST(test_empty_file)
{
	struct jv_policy p, want;
	struct jv_error err;

	jv_policy_defaults(&p);
	assert_int_equal(parse_file(&p, "empty.yaml", true, &err),
			 JV_ERR_INVAL);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.msg,
			    "empty policy (version and the required keys are missing)");
	expect_error("# only a comment\n", true, JV_ERR_INVAL, 0,
		     "empty policy (version and the required keys are missing)");
	/* no overrides is a valid override file */
	tuned(&p);
	tuned(&want);
	assert_int_equal(parse_file(&p, "empty.yaml", false, &err), 0);
	assert_policy_eq(&p, &want);
}

JV_TEST(test_top_level_not_mapping)
{
	expect_error("- version\n- session\n", false, JV_ERR_INVAL, 1,
		     "a policy is a mapping of sections, got a list");
	expect_error("\n\njust text\n", true, JV_ERR_INVAL, 3,
		     "a policy is a mapping of sections, got 'just text'");
	expect_error("? [a, b]\n: 1\n", false, JV_ERR_INVAL, 1,
		     "keys must be plain names, got a list");
}

JV_TEST(test_section_not_mapping)
{
	struct jv_policy p;
	struct jv_error err;

	expect_error("version: \"1.0\"\nsession: 5000\n", false, JV_ERR_INVAL,
		     2, "session: expected a mapping, got '5000'");
	expect_error("security:\n  - replay_window_size: 64\n", false,
		     JV_ERR_INVAL, 2, "security: expected a mapping, got a list");
	/* a section with every key commented out is just empty */
	jv_policy_defaults(&p);
	assert_int_equal(parse_str(&p, "volatility:\n  # loss_window_ms: 5\nswitching: ~\n",
				   false, &err), 0);
}

JV_TEST(test_cross_field)
{
	struct jv_policy p, want;
	struct jv_error err;
	char text[512];

	/* a complete policy file is checked as a whole, with a line */
	jv_policy_defaults(&p);
	want = p;
	assert_int_equal(parse_file(&p, "cross-field.yaml", true, &err),
			 JV_ERR_RANGE);
	assert_string_equal(err.file, "cross-field.yaml");
	assert_int_equal(err.line, 8);
	assert_string_equal(err.msg,
			    "volatility.heartbeat_volatile_ms (1000) must be greater than volatility.heartbeat_interval_ms (2000)");
	assert_policy_eq(&p, &want);
	/* overrides are checked once all layers are in, by validate */
	assert_int_equal(parse_file(&p, "cross-field.yaml", false, &err), 0);
	assert_int_equal(jv_policy_validate(&p, "cross-field.yaml", &err),
			 JV_ERR_RANGE);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.msg,
			    "volatility.heartbeat_volatile_ms (1000) must be greater than volatility.heartbeat_interval_ms (2000)");
	/* only the second key of the rule is in the file: its line */
	snprintf(text, sizeof(text), "%s",
		 "version: \"1.0\"\n"
		 "session: {max_lifetime_ms: 28800000, transport_lost_ttl_ms: 15000}\n"
		 "volatility:\n"
		 "  loss_volatile_threshold: 0.2\n"
		 "  heartbeat_interval_ms: 3000\n"
		 "switching: {max_switches_per_min: 8, recovery_window_ms: 8000}\n"
		 "security: {reattach_proof_max_age_ms: 5000}\n");
	expect_error(text, true, JV_ERR_RANGE, 5,
		     "volatility.heartbeat_volatile_ms (1000) must be greater than volatility.heartbeat_interval_ms (3000)");

	jv_policy_defaults(&p);
	p.heartbeat_volatile_ms = p.heartbeat_interval_ms;
	assert_int_equal(jv_policy_validate(&p, "x", &err), JV_ERR_RANGE);
	assert_string_equal(err.msg,
			    "volatility.heartbeat_volatile_ms (500) must be greater than volatility.heartbeat_interval_ms (500)");

	jv_policy_defaults(&p);
	p.max_lifetime_ms = 10000;
	p.transport_lost_ttl_ms = 10000;
	assert_int_equal(jv_policy_validate(&p, "x", &err), 0);
	p.transport_lost_ttl_ms = 10001;
	assert_int_equal(jv_policy_validate(&p, "x", &err), JV_ERR_RANGE);
	assert_string_equal(err.msg,
			    "session.transport_lost_ttl_ms (10001) must not exceed session.max_lifetime_ms (10000)");

	jv_policy_defaults(&p);
	p.loss_window_ms = 500;
	assert_int_equal(jv_policy_validate(&p, "x", &err), 0);
	p.loss_window_ms = 499;
	assert_int_equal(jv_policy_validate(&p, "x", &err), JV_ERR_RANGE);
	assert_string_equal(err.msg,
			    "volatility.loss_window_ms (499) must be at least volatility.heartbeat_interval_ms (500)");
}

/* A policy built in code gets the same bounds as one read from a file. */
JV_TEST(test_validate_bounds)
{
	struct jv_policy p;
	struct jv_error err;

	jv_policy_defaults(&p);
	p.max_switches_per_min = 0;
	assert_int_equal(jv_policy_validate(&p, "x", &err), JV_ERR_RANGE);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.msg,
			    "switching.max_switches_per_min: value 0 out of range (allowed 1..64)");
	jv_policy_defaults(&p);
	p.loss_volatile_threshold = 0.0;
	assert_int_equal(jv_policy_validate(&p, "x", &err), JV_ERR_RANGE);
	assert_string_equal(err.msg,
			    "volatility.loss_volatile_threshold: value 0.0 out of range (allowed 0..1, 0 excluded)");
	jv_policy_defaults(&p);
	p.allowed_protocols = 0;
	assert_int_equal(jv_policy_validate(&p, "x", &err), JV_ERR_INVAL);
	assert_string_equal(err.msg, "transport.allowed_protocols: invalid value []");
	jv_policy_defaults(&p);
	snprintf(p.version, sizeof(p.version), "x");
	assert_int_equal(jv_policy_validate(&p, "x", &err), JV_ERR_INVAL);
	assert_string_equal(err.msg, "version: invalid value \"x\"");
}

JV_TEST(test_overrides)
{
	struct jv_policy p, want;
	struct jv_error err;

	tuned(&p);
	tuned(&want);
	want.max_switches_per_min = 2;
	want.emit_security_events = true;
	assert_int_equal(parse_str(&p, "switching: {max_switches_per_min: 2}\nobservability:\n  emit_security_events: true\n",
				   false, &err), 0);
	assert_policy_eq(&p, &want);
}

/* The first keys are fine, a later one is not: nothing may leak through. */
JV_TEST(test_unchanged_on_error)
{
	expect_error("version: \"1.1\"\nsession: {max_lifetime_ms: 9999}\nswitching:\n  switch_cooldown_ms: 7\n  max_switches_per_min: 65\n",
		     false, JV_ERR_RANGE, 5,
		     "switching.max_switches_per_min: value 65 out of range (allowed 1..64)");
	expect_error("version: \"1.0\"\nsession: {max_lifetime_ms: 9999}\n",
		     true, JV_ERR_INVAL, 2,
		     "session.transport_lost_ttl_ms: required key missing");
}

JV_TEST(test_parse_node)
{
	const char *text = "name: scenario\n"
			   "policy:\n"
			   "  session: { transport_lost_ttl_ms: 9000 }\n"
			   "  switching:\n"
			   "    max_switches_per_min: 99\n";
	struct jv_policy p, want;
	struct jv_error err;
	yaml_document_t doc;
	yaml_node_t *root, *node;

	assert_int_equal(jv_yaml_load(&doc, text, strlen(text), "s.yaml", &err),
			 0);
	root = yaml_document_get_root_node(&doc);
	node = jv_yaml_get(&doc, root, "policy");
	assert_non_null(node);
	assert_int_equal(jv_yaml_line(node), 3);
	jv_policy_defaults(&p);
	want = p;
	/* the line is the line in the whole document */
	assert_int_equal(jv_policy_parse_node(&p, &doc, node, "s.yaml", NULL, false,
					      &err), JV_ERR_RANGE);
	assert_string_equal(err.file, "s.yaml");
	assert_int_equal(err.line, 5);
	assert_string_equal(err.msg,
			    "switching.max_switches_per_min: value 99 out of range (allowed 1..64)");
	assert_policy_eq(&p, &want);
	/* not a mapping */
	assert_int_equal(jv_policy_parse_node(&p, &doc,
					      jv_yaml_get(&doc, root, "name"),
					      "s.yaml", NULL, false, &err),
			 JV_ERR_INVAL);
	assert_int_equal(err.line, 1);
	assert_string_equal(err.msg,
			    "a policy is a mapping of sections, got 'scenario'");
	yaml_document_delete(&doc);

	text = "policy:\n  session: { transport_lost_ttl_ms: 9000 }\n";
	assert_int_equal(jv_yaml_load(&doc, text, strlen(text), "s.yaml", &err),
			 0);
	node = jv_yaml_get(&doc, yaml_document_get_root_node(&doc), "policy");
	want.transport_lost_ttl_ms = 9000;
	assert_int_equal(jv_policy_parse_node(&p, &doc, node, "s.yaml", NULL, false,
					      &err), 0);
	assert_policy_eq(&p, &want);
	yaml_document_delete(&doc);
}

static void round_trip(const struct jv_policy *in)
{
	struct jv_policy out;
	struct jv_error err;
	char buf[4096];
	int n;

	n = jv_policy_format(in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(strlen(buf), (size_t)n);
	/* start from something else so every key must come from the text */
	jv_policy_defaults(&out);
	out.max_lifetime_ms = 1234567;
	out.loss_volatile_threshold = 0.9;
	out.allowed_protocols = JV_PROTO_UDP;
	out.include_latency_metrics = !in->include_latency_metrics;
	if (parse_str(&out, buf, true, &err) != 0)
		fail_msg("%d: %s\n%s", err.line, err.msg, buf);
	assert_policy_eq(&out, in);
}

JV_TEST(test_format)
{
	static const char want[] =
		"version: \"1.0\"\n"
		"session:\n"
		"  max_lifetime_ms: 28800000\n"
		"  transport_lost_ttl_ms: 15000\n"
		"volatility:\n"
		"  heartbeat_interval_ms: 500\n"
		"  heartbeat_volatile_ms: 2000\n"
		"  loss_window_ms: 2000\n"
		"  loss_volatile_threshold: 0.2\n"
		"  max_consecutive_drops: 3\n"
		"  volatile_to_degraded_ms: 4000\n"
		"  latency_volatile_threshold_ms: 0\n"
		"  data_silence_rtts: 4\n"
		"  data_silence_floor_ms: 100\n"
		"switching:\n"
		"  max_switches_per_min: 8\n"
		"  switch_cooldown_ms: 1500\n"
		"  recovery_window_ms: 8000\n"
		"  switch_improvement_factor: 1.1\n"
		"  failback_after_ms: 0\n"
		"  resend_max_bytes: 262144\n"
		"transport:\n"
		"  allowed_protocols: [udp, tcp]\n"
		"  max_candidate_count: 3\n"
		"  probe_interval_ms: 1000\n"
		"  enforce_hysteresis: true\n"
		"security:\n"
		"  reattach_proof_max_age_ms: 5000\n"
		"  replay_window_size: 2048\n"
		"  max_reattach_failures: 3\n"
		"  rekey_after_ms: 120000\n"
		"observability:\n"
		"  emit_switch_metrics: true\n"
		"  emit_security_events: true\n"
		"  include_latency_metrics: true\n";
	struct jv_policy p;
	char buf[4096];

	jv_policy_defaults(&p);
	assert_int_equal(jv_policy_format(&p, buf, sizeof(buf)),
			 (int)strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(jv_policy_format(&p, buf, strlen(want)), JV_ERR_SHORT);
	assert_int_equal(jv_policy_format(&p, buf, 10), JV_ERR_SHORT);
	assert_int_equal(jv_policy_format(&p, buf, strlen(want) + 1),
			 (int)strlen(want));
}

JV_TEST(test_format_round_trip)
{
	struct jv_policy p;
	char buf[4096];

	jv_policy_defaults(&p);
	round_trip(&p);
	tuned(&p);
	round_trip(&p);
	assert_true(jv_policy_format(&p, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "  allowed_protocols: [tcp]\n"));
	assert_non_null(strstr(buf, "  switch_improvement_factor: 1.5\n"));
	/* doubles with no short decimal form must come back bit for bit */
	p.loss_volatile_threshold = 0.1 + 0.2;
	p.switch_improvement_factor = 10.0 / 3.0;
	round_trip(&p);
	p.loss_volatile_threshold = 1.0;
	p.switch_improvement_factor = 10.0;
	p.allowed_protocols = JV_PROTO_UDP;
	round_trip(&p);
	assert_true(jv_policy_format(&p, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "  loss_volatile_threshold: 1.0\n"));
	assert_non_null(strstr(buf, "  allowed_protocols: [udp]\n"));
}

static yaml_node_t *load_value(yaml_document_t *doc, const char *text)
{
	struct jv_error err;

	assert_int_equal(jv_yaml_load(doc, text, strlen(text), "y", &err), 0);
	return jv_yaml_get(doc, yaml_document_get_root_node(doc), "v");
}

JV_TEST(test_yaml_u64)
{
	static const struct { const char *text; int rc; uint64_t v; } rows[] = {
		{ "v: 0", 0, 0 },
		{ "v: 500", 0, 500 },
		{ "v: 007", 0, 7 },
		{ "v: 18446744073709551615", 0, UINT64_MAX },
		{ "v: 18446744073709551616", JV_ERR_INVAL, 0 },
		{ "v: 99999999999999999999", JV_ERR_INVAL, 0 },
		{ "v: \"500\"", JV_ERR_INVAL, 0 },
		{ "v: '500'", JV_ERR_INVAL, 0 },
		{ "v: +5", JV_ERR_INVAL, 0 },
		{ "v: -5", JV_ERR_INVAL, 0 },
		{ "v: 0x10", JV_ERR_INVAL, 0 },
		{ "v: 5 0", JV_ERR_INVAL, 0 },
		{ "v: 1_000", JV_ERR_INVAL, 0 },
		{ "v:", JV_ERR_INVAL, 0 },
		{ "v: [5]", JV_ERR_INVAL, 0 },
	};
	yaml_document_t doc;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v = 42;
		yaml_node_t *n = load_value(&doc, rows[i].text);

		assert_non_null(n);
		if (jv_yaml_u64(n, &v) != rows[i].rc)
			fail_msg("row %zu (%s)", i, rows[i].text);
		assert_int_equal(v, rows[i].rc ? 42 : rows[i].v);
		yaml_document_delete(&doc);
	}
}

JV_TEST(test_yaml_double_bool)
{
	static const struct { const char *text; int rc; double v; } rows[] = {
		{ "v: 0.25", 0, 0.25 },
		{ "v: 1", 0, 1.0 },
		{ "v: -2.5e2", 0, -250.0 },
		{ "v: .5", 0, 0.5 },
		{ "v: \"0.5\"", JV_ERR_INVAL, 0 },
		{ "v: 0x1p3", JV_ERR_INVAL, 0 },
		{ "v: inf", JV_ERR_INVAL, 0 },
		{ "v: nan", JV_ERR_INVAL, 0 },
		{ "v: 1e999", JV_ERR_INVAL, 0 },
		{ "v: 0.5x", JV_ERR_INVAL, 0 },
		{ "v: 1,5", JV_ERR_INVAL, 0 },
		{ "v:", JV_ERR_INVAL, 0 },
	};
	yaml_document_t doc;
	yaml_node_t *n;
	bool b = false;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		double v = 42.0;

		n = load_value(&doc, rows[i].text);
		if (jv_yaml_double(n, &v) != rows[i].rc)
			fail_msg("row %zu (%s)", i, rows[i].text);
		assert_true(v == (rows[i].rc ? 42.0 : rows[i].v));
		yaml_document_delete(&doc);
	}
	n = load_value(&doc, "v: true");
	assert_int_equal(jv_yaml_bool(n, &b), 0);
	assert_true(b);
	yaml_document_delete(&doc);
	n = load_value(&doc, "v: false");
	assert_int_equal(jv_yaml_bool(n, &b), 0);
	assert_false(b);
	yaml_document_delete(&doc);
	n = load_value(&doc, "v: 'true'");
	assert_int_equal(jv_yaml_bool(n, &b), JV_ERR_INVAL);
	yaml_document_delete(&doc);
	n = load_value(&doc, "v: yes");
	assert_int_equal(jv_yaml_bool(n, &b), JV_ERR_INVAL);
	yaml_document_delete(&doc);
}

JV_TEST(test_yaml_get_line_str)
{
	const char *text = "a: 1\n\nb:\n  - x\n\"c\\0d\": 2\nlist: [1]\n";
	yaml_document_t doc;
	yaml_node_t *root, *b;
	struct jv_error err;

	assert_int_equal(jv_yaml_load(&doc, text, strlen(text), "y", &err), 0);
	root = yaml_document_get_root_node(&doc);
	assert_string_equal(jv_yaml_str(jv_yaml_get(&doc, root, "a")), "1");
	b = jv_yaml_get(&doc, root, "b");
	assert_non_null(b);
	assert_int_equal(b->type, YAML_SEQUENCE_NODE);
	assert_int_equal(jv_yaml_line(b), 4);
	assert_null(jv_yaml_str(b));
	/* exact match: "c\0d" is not "c" */
	assert_null(jv_yaml_get(&doc, root, "c"));
	assert_null(jv_yaml_get(&doc, root, "missing"));
	assert_null(jv_yaml_get(&doc, b, "x"));
	assert_null(jv_yaml_get(&doc, NULL, "a"));
	assert_int_equal(jv_yaml_line(NULL), 0);
	yaml_document_delete(&doc);

	/* an empty stream loads, with no root */
	assert_int_equal(jv_yaml_load(&doc, "", 0, "y", &err), 0);
	assert_null(yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	/* explicit length: bytes past len are not read */
	assert_int_equal(jv_yaml_load(&doc, "a: 1\n: : :", 5, "y", &err), 0);
	yaml_document_delete(&doc);
	assert_int_equal(jv_yaml_load(&doc, "a: [", 4, "y.yaml", &err),
			 JV_ERR_INVAL);
	assert_string_equal(err.file, "y.yaml");
	/* libyaml puts the end of a stream without a final newline on the
	 * next line */
	assert_int_equal(err.line, 2);
}

/* libyaml slows down quadratically with nesting: 64 levels and no more. */
JV_TEST(test_yaml_depth)
{
	static char text[1 << 20];
	yaml_document_t doc;
	struct jv_error err;
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "a: ");
	for (int i = 0; i < 63; i++)
		text[n++] = '[';
	for (int i = 0; i < 63; i++)
		text[n++] = ']';
	assert_int_equal(jv_yaml_load(&doc, text, n, "y", &err), 0);
	yaml_document_delete(&doc);
	n = (size_t)snprintf(text, sizeof(text), "a:\n  ");
	memset(text + n, '[', sizeof(text) - n);
	assert_int_equal(jv_yaml_load(&doc, text, sizeof(text), "y", &err),
			 JV_ERR_INVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.msg, "nested deeper than 64 levels");
}
