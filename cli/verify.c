/* jvpn audit verify: replays each node's events through the transition
 * table (core/fsm.c, the same one the engine uses) and checks the rules
 * the CONTRACT makes testable. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/verify.h"
#include "core/fsm.h"

#define SWITCH_RING 65   /* > the largest max_switches_per_min (64) */

struct vnode {
	char id[64];
	uint64_t seq;
	int64_t ts;
};

enum { RES_NONE, RES_SUCCESS, RES_DENIED };

struct vsession {
	char key[64 + 33 + 1];
	enum jv_state state;
	uint64_t version;
	enum jv_reason term_reason;   /* of the ->TERMINATED change */
	bool terminated_event;
	int last_result;              /* since entering RECOVERING */
	int64_t switches[SWITCH_RING];
	uint32_t nswitch;             /* total; ring holds the last ones */
	char term_file[256];          /* where the ->TERMINATED change was */
	int term_line;
};

struct jv_verify {
	uint32_t max_switches;
	json_t *node_index, *session_index;  /* name -> array position */
	struct vnode *nodes;
	size_t nnodes, cnodes;
	struct vsession *sessions;
	size_t nsessions, csessions;
	uint64_t events;
};

static const char *const EVENT_TYPES[] = {
	"SessionCreated", "SessionStateChange", "TransportDead",
	"TransportSwitch", "TransportSwitchDenied", "ReattachAttempt",
	"ReattachResult", "SecurityReplayDetected", "SecurityValidationFailed",
	"SessionTerminated", "KeyRotated", "TransitionRejected",
	"PolicyLoaded", "PolicyRejected",
};

struct jv_verify *jv_verify_new(uint32_t max_switches_per_min)
{
	struct jv_verify *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->max_switches = max_switches_per_min;
	v->node_index = json_object();
	v->session_index = json_object();
	if (!v->node_index || !v->session_index) {
		jv_verify_free(v);
		return NULL;
	}
	return v;
}

void jv_verify_free(struct jv_verify *v)
{
	if (!v)
		return;
	json_decref(v->node_index);
	json_decref(v->session_index);
	free(v->nodes);
	free(v->sessions);
	free(v);
}

/* Grows *arr (of elem-sized items) to hold one more. */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	void *p;

	if (n < *cap)
		return arr;
	*cap = *cap ? 2 * *cap : 16;
	p = realloc(arr, *cap * elem);
	if (p)
		memset((char *)p + n * elem, 0, (*cap - n) * elem);
	return p;
}

static struct vnode *node_get(struct jv_verify *v, const char *id)
{
	json_t *pos = json_object_get(v->node_index, id);
	struct vnode *n;

	if (pos)
		return &v->nodes[json_integer_value(pos)];
	n = grow(v->nodes, &v->cnodes, v->nnodes, sizeof(*n));
	if (!n)
		return NULL;
	v->nodes = n;
	n = &v->nodes[v->nnodes];
	snprintf(n->id, sizeof(n->id), "%s", id);
	n->ts = INT64_MIN;
	json_object_set_new(v->node_index, id,
			    json_integer((json_int_t)v->nnodes++));
	return n;
}

static struct vsession *session_get(struct jv_verify *v, const char *node,
				    const char *sid)
{
	char key[sizeof(((struct vsession *)0)->key)];
	struct vsession *s;
	json_t *pos;

	snprintf(key, sizeof(key), "%s|%s", node, sid);
	pos = json_object_get(v->session_index, key);
	if (pos)
		return &v->sessions[json_integer_value(pos)];
	s = grow(v->sessions, &v->csessions, v->nsessions, sizeof(*s));
	if (!s)
		return NULL;
	v->sessions = s;
	s = &v->sessions[v->nsessions];
	memcpy(s->key, key, sizeof(key));
	s->state = JV_STATE_BIRTH;
	json_object_set_new(v->session_index, key,
			    json_integer((json_int_t)v->nsessions++));
	return s;
}

static bool known_type(const char *t)
{
	for (size_t i = 0; i < sizeof(EVENT_TYPES) / sizeof(EVENT_TYPES[0]); i++)
		if (strcmp(t, EVENT_TYPES[i]) == 0)
			return true;
	return false;
}

static bool is_sid(const char *s)
{
	if (strlen(s) != 32)
		return false;
	for (int i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static const char *str(json_t *ev, const char *key)
{
	return json_string_value(json_object_get(ev, key));
}

#define FAIL(...) jv_error_set(err, JV_ERR_INVAL, file, lineno, __VA_ARGS__)

/* The common fields of CONTRACT section 2. */
static int check_common(json_t *ev, const char *file, int lineno,
			struct jv_error *err)
{
	const char *type = str(ev, "event_type"), *role = str(ev, "role");
	json_t *sid = json_object_get(ev, "session_id");

	if (!json_is_integer(json_object_get(ev, "ts_ms")))
		return FAIL("ts_ms missing or not an integer");
	if (!json_is_integer(json_object_get(ev, "seq")) ||
	    json_integer_value(json_object_get(ev, "seq")) < 1)
		return FAIL("seq missing or not a positive integer");
	if (!type)
		return FAIL("event_type missing or not a string");
	if (!known_type(type))
		return FAIL("unknown event_type '%.60s'", type);
	if (!str(ev, "node_id") || !*str(ev, "node_id"))
		return FAIL("node_id missing or not a string");
	if (!role || (strcmp(role, "client") && strcmp(role, "server")))
		return FAIL("role must be client or server");
	if (!str(ev, "policy_version"))
		return FAIL("policy_version missing or not a string");
	if (sid && (!json_is_string(sid) || !is_sid(json_string_value(sid))))
		return FAIL("session_id is not 32 lowercase hex characters");
	return 0;
}

/* Every reason_code named anywhere must be a contract reason. */
static int check_reason(json_t *ev, const char *file, int lineno,
			struct jv_error *err)
{
	json_t *r = json_object_get(ev, "reason_code");

	if (!r)
		return 0;
	if (!json_is_string(r) || jv_reason_from_name(json_string_value(r)) < 0)
		return FAIL("%s: unknown reason_code '%.60s'",
			    str(ev, "event_type"),
			    json_is_string(r) ? json_string_value(r) : "?");
	return 0;
}

static int state_change(struct vsession *s, json_t *ev, const char *file,
			int lineno, struct jv_error *err, const char *sid)
{
	const char *ps = str(ev, "previous_state"), *ns = str(ev, "new_state");
	const char *rc = str(ev, "reason_code");
	json_t *ver = json_object_get(ev, "state_version");
	int from = ps ? jv_state_from_name(ps) : -1;
	int to = ns ? jv_state_from_name(ns) : -1;
	int why = rc ? jv_reason_from_name(rc) : -1;

	if (from < 0 || to < 0 || why < 0 || !json_is_integer(ver))
		return FAIL("session %.8s: SessionStateChange needs previous_state,"
			    " new_state, reason_code and state_version", sid);
	if ((enum jv_state)from != s->state)
		return FAIL("session %.8s: previous_state %s but the session is %s",
			    sid, ps, jv_state_name(s->state));
	if (!jv_fsm_allowed(s->state, (enum jv_state)to, (enum jv_reason)why))
		return FAIL("session %.8s: %s -> %s (%s) is not a transition of "
			    "the table", sid, ps, ns, rc);
	if ((uint64_t)json_integer_value(ver) != s->version + 1)
		return FAIL("session %.8s: state_version %lld, expected %llu", sid,
			    (long long)json_integer_value(ver),
			    (unsigned long long)s->version + 1);
	if (to == JV_STATE_ATTACHED && from == JV_STATE_RECOVERING &&
	    s->last_result != RES_SUCCESS)
		return FAIL("session %.8s: RECOVERING -> ATTACHED without a "
			    "ReattachResult SUCCESS", sid);
	if (to == JV_STATE_RECOVERING)
		s->last_result = RES_NONE;
	if (to == JV_STATE_TERMINATED) {
		s->term_reason = (enum jv_reason)why;
		snprintf(s->term_file, sizeof(s->term_file), "%s", file);
		s->term_line = lineno;
	}
	s->state = (enum jv_state)to;
	s->version++;
	return 0;
}

static int switch_rate(struct jv_verify *v, struct vsession *s, int64_t ts,
		       const char *file, int lineno, struct jv_error *err,
		       const char *sid)
{
	uint32_t max = v->max_switches;

	s->switches[s->nswitch % SWITCH_RING] = ts;
	s->nswitch++;
	/* the (max+1)-th most recent switch must be 60 s or more ago */
	if (max < SWITCH_RING && s->nswitch > max) {
		int64_t old = s->switches[(s->nswitch - 1 - max) % SWITCH_RING];

		if (ts - old < 60000)
			return FAIL("session %.8s: %u switches within 60 s "
				    "(allowed %u)", sid, max + 1, max);
	}
	return 0;
}

static int session_rules(struct jv_verify *v, json_t *ev, const char *node,
			 const char *sid, int64_t ts, const char *file,
			 int lineno, struct jv_error *err)
{
	const char *type = str(ev, "event_type");
	struct vsession *s = session_get(v, node, sid);

	if (!s)
		return jv_error_set(err, JV_ERR_NOMEM, file, lineno, "out of memory");
	if (s->terminated_event)
		return FAIL("session %.8s: %s after SessionTerminated", sid, type);
	if (s->state == JV_STATE_TERMINATED) {
		const char *rc = str(ev, "reason_code");

		if (strcmp(type, "SessionTerminated") != 0)
			return FAIL("session %.8s: %s after the session was "
				    "TERMINATED", sid, type);
		if (!rc || jv_reason_from_name(rc) != (int)s->term_reason)
			return FAIL("session %.8s: SessionTerminated reason_code "
				    "'%s' differs from the transition's '%s'",
				    sid, rc ? rc : "(none)",
				    jv_reason_name(s->term_reason));
		s->terminated_event = true;
		return 0;
	}
	if (strcmp(type, "SessionTerminated") == 0)
		return FAIL("session %.8s: SessionTerminated before a change to "
			    "TERMINATED", sid);
	if (strcmp(type, "SessionStateChange") == 0)
		return state_change(s, ev, file, lineno, err, sid);
	if (strcmp(type, "ReattachResult") == 0) {
		const char *st = str(ev, "status");

		if (!st || (strcmp(st, "SUCCESS") && strcmp(st, "DENIED")))
			return FAIL("session %.8s: ReattachResult status must be "
				    "SUCCESS or DENIED", sid);
		s->last_result = st[0] == 'S' ? RES_SUCCESS : RES_DENIED;
		return 0;
	}
	if (strcmp(type, "TransportSwitch") == 0)
		return switch_rate(v, s, ts, file, lineno, err, sid);
	return 0;
}

int jv_verify_line(struct jv_verify *v, const char *line, size_t len,
		   const char *file, int lineno, struct jv_error *err)
{
	json_error_t jerr;
	json_t *ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	struct vnode *n;
	const char *sid;
	int64_t ts, seq;
	int rc;

	if (!ev || !json_is_object(ev)) {
		json_decref(ev);
		return FAIL("not a JSON object: %s", ev ? "" : jerr.text);
	}
	if ((rc = check_common(ev, file, lineno, err)) ||
	    (rc = check_reason(ev, file, lineno, err)))
		goto out;
	n = node_get(v, str(ev, "node_id"));
	if (!n) {
		rc = jv_error_set(err, JV_ERR_NOMEM, file, lineno, "out of memory");
		goto out;
	}
	seq = json_integer_value(json_object_get(ev, "seq"));
	ts = json_integer_value(json_object_get(ev, "ts_ms"));
	if ((uint64_t)seq != n->seq + 1) {
		rc = FAIL("node %s: seq %lld, expected %llu", n->id,
			  (long long)seq, (unsigned long long)n->seq + 1);
		goto out;
	}
	if (ts < n->ts) {
		rc = FAIL("node %s: ts_ms %lld goes back in time", n->id,
			  (long long)ts);
		goto out;
	}
	n->seq++;
	n->ts = ts;
	v->events++;
	sid = str(ev, "session_id");
	rc = sid ? session_rules(v, ev, n->id, sid, ts, file, lineno, err) : 0;
out:
	json_decref(ev);
	return rc;
}

int jv_verify_finish(struct jv_verify *v, struct jv_error *err)
{
	for (size_t i = 0; i < v->nsessions; i++) {
		struct vsession *s = &v->sessions[i];

		if (s->state == JV_STATE_TERMINATED && !s->terminated_event)
			return jv_error_set(err, JV_ERR_INVAL, s->term_file,
					    s->term_line,
					    "session %s: TERMINATED but no "
					    "SessionTerminated event follows",
					    s->key);
	}
	return 0;
}

void jv_verify_counts(const struct jv_verify *v, struct jv_verify_counts *out)
{
	out->events = v->events;
	out->sessions = v->nsessions;
	out->nodes = v->nnodes;
}
