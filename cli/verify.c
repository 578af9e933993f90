/* jvpn audit verify: replays each node's events through the transition
 * table (core/fsm.c, the same one the engine uses) and checks the rules
 * the CONTRACT makes testable. One bad line ends the check: after it, the
 * reconstructed timelines no longer mean anything. */
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/verify.h"
#include "core/fsm.h"

#define NODE_MAX 63        /* the engine's node_id holds 63 bytes */
#define SID_LEN 32
#define WINDOW_MS 60000    /* switches count in (ts - 60000, ts], as core/limiter.c */

struct vnode {
	char id[NODE_MAX + 1];
	uint64_t seq;          /* last seen; the next must be seq + 1 */
	int64_t ts;
};

enum { RES_NONE, RES_SUCCESS, RES_DENIED };

/* One session as one node saw it. */
struct vsession {
	char node[NODE_MAX + 1];
	char sid[SID_LEN + 1];
	enum jv_state state;
	uint64_t version;
	enum jv_reason term_reason;   /* of the ->TERMINATED change */
	bool terminated_event;
	int last_result;              /* latest ReattachResult since RECOVERING */
	int64_t *switches;            /* ring of the last max + 1 switch times */
	uint64_t nswitch;
	char term_file[256];          /* where the ->TERMINATED change was */
	int term_line;
};

struct jv_verify {
	uint32_t max_switches;
	json_t *node_index, *session_index;  /* key -> array position */
	json_t *sids;                        /* distinct session ids */
	struct vnode *nodes;
	size_t nnodes, cnodes;
	struct vsession *sessions;
	size_t nsessions, csessions;
	uint64_t events;
};

/* CONTRACT section 2. Events about a session must say which one; the
 * others may lack session_id (a denial for an unknown session, a policy
 * reload). */
static const struct {
	const char *name;
	bool needs_sid;
} EVENT_TYPES[] = {
	{ "SessionCreated", true },
	{ "SessionStateChange", true },
	{ "TransportDead", false },
	{ "TransportSwitch", true },
	{ "TransportSwitchDenied", false },
	{ "ReattachAttempt", true },
	{ "ReattachResult", false },
	{ "SecurityReplayDetected", false },
	{ "SecurityValidationFailed", false },
	{ "SessionTerminated", true },
	{ "KeyRotated", true },
	{ "TransitionRejected", true },
	{ "PolicyLoaded", false },
	{ "PolicyRejected", false },
};

/* The line being checked; the fields are filled as they are validated. */
struct ev {
	json_t *obj;
	const char *file;
	int lineno;
	struct jv_error *err;
	const char *type, *node, *sid;
	long long seq;
	int64_t ts;
};

struct jv_verify *jv_verify_new(uint32_t max_switches_per_min)
{
	struct jv_verify *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->max_switches = max_switches_per_min;
	v->node_index = json_object();
	v->session_index = json_object();
	v->sids = json_object();
	if (!v->node_index || !v->session_index || !v->sids) {
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
	json_decref(v->sids);
	for (size_t i = 0; i < v->nsessions; i++)
		free(v->sessions[i].switches);
	free(v->nodes);
	free(v->sessions);
	free(v);
}

/* A violation: "EventType seq N of node X, session S: what". */
static int bad(const struct ev *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(const struct ev *e, const char *fmt, ...)
{
	char what[384], who[160] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (e->type && e->node)
		snprintf(who, sizeof(who), "%s seq %lld of node %s%s%s: ",
			 e->type, e->seq, e->node, e->sid ? ", session " : "",
			 e->sid ? e->sid : "");
	return jv_error_set(e->err, JV_ERR_INVAL, e->file, e->lineno, "%s%s",
			    who, what);
}

static int nomem(const struct ev *e)
{
	return jv_error_set(e->err, JV_ERR_NOMEM, e->file, e->lineno,
			    "out of memory");
}

/* arr, grown to hold one more elem-sized item; NULL on ENOMEM */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap = *cap ? 2 * *cap : 16;
	char *p;

	if (n < *cap)
		return arr;
	p = realloc(arr, ncap * elem);
	if (!p)
		return NULL;
	memset(p + n * elem, 0, (ncap - n) * elem);
	*cap = ncap;
	return p;
}

/* Position of key in index, or the next free one (new = true). */
static size_t lookup(json_t *index, const char *key, size_t next, bool *new)
{
	json_t *pos = json_object_get(index, key);

	*new = !pos;
	return pos ? (size_t)json_integer_value(pos) : next;
}

static struct vnode *node_get(struct jv_verify *v, const char *id)
{
	struct vnode *n;
	bool new;
	size_t i = lookup(v->node_index, id, v->nnodes, &new);

	if (!new)
		return &v->nodes[i];
	n = grow(v->nodes, &v->cnodes, v->nnodes, sizeof(*n));
	if (!n)
		return NULL;
	v->nodes = n;
	if (json_object_set_new(v->node_index, id, json_integer((json_int_t)i)))
		return NULL;
	v->nnodes++;
	/* id was checked to fit */
	strcpy(v->nodes[i].id, id);
	v->nodes[i].ts = INT64_MIN;
	return &v->nodes[i];
}

static struct vsession *session_get(struct jv_verify *v, const char *node,
				    const char *sid)
{
	/* sid has a fixed length, so "node|sid" names one pair only */
	char key[NODE_MAX + 1 + SID_LEN + 1];
	struct vsession *s;
	bool new;
	size_t i;

	snprintf(key, sizeof(key), "%s|%s", node, sid);
	i = lookup(v->session_index, key, v->nsessions, &new);
	if (!new)
		return &v->sessions[i];
	s = grow(v->sessions, &v->csessions, v->nsessions, sizeof(*s));
	if (!s)
		return NULL;
	v->sessions = s;
	if (json_object_set_new(v->session_index, key,
				json_integer((json_int_t)i)) ||
	    json_object_set_new(v->sids, sid, json_true()))
		return NULL;
	v->nsessions++;
	s = &v->sessions[i];
	strcpy(s->node, node);
	strcpy(s->sid, sid);
	s->state = JV_STATE_BIRTH;
	return s;
}

/* -1 if unknown, else the index in EVENT_TYPES */
static int event_type(const char *t)
{
	for (size_t i = 0; i < sizeof(EVENT_TYPES) / sizeof(EVENT_TYPES[0]); i++)
		if (strcmp(t, EVENT_TYPES[i].name) == 0)
			return (int)i;
	return -1;
}

static bool is_sid(const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < SID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == SID_LEN && s[i] == '\0';
}

static const char *str(const struct ev *e, const char *key)
{
	return json_string_value(json_object_get(e->obj, key));
}

/* A contract reason name: JV_R_NONE ("none") is internal, never one. */
static int reason(const char *name)
{
	int r = name ? jv_reason_from_name(name) : -1;

	return r == JV_R_NONE ? -1 : r;
}

static int check_common(struct ev *e)
{
	json_t *ts = json_object_get(e->obj, "ts_ms");
	json_t *seq = json_object_get(e->obj, "seq");
	json_t *sid = json_object_get(e->obj, "session_id");
	const char *type = str(e, "event_type"), *node = str(e, "node_id");
	const char *role = str(e, "role");
	int t;

	if (!json_is_integer(ts))
		return bad(e, "ts_ms missing or not an integer");
	if (!json_is_integer(seq) || json_integer_value(seq) < 1)
		return bad(e, "seq missing or not a positive integer");
	if (!type)
		return bad(e, "event_type missing or not a string");
	if ((t = event_type(type)) < 0)
		return bad(e, "unknown event_type '%.60s'", type);
	if (!node || !*node)
		return bad(e, "node_id missing or not a string");
	if (strlen(node) > NODE_MAX)
		return bad(e, "node_id longer than %d bytes", NODE_MAX);
	if (!role || (strcmp(role, "client") && strcmp(role, "server")))
		return bad(e, "role missing or not client or server");
	if (!str(e, "policy_version"))
		return bad(e, "policy_version missing or not a string");
	e->type = type;
	e->node = node;
	e->seq = json_integer_value(seq);
	e->ts = json_integer_value(ts);
	if (sid && (!json_is_string(sid) || !is_sid(json_string_value(sid))))
		return bad(e, "session_id is not 32 lowercase hex characters");
	e->sid = json_string_value(sid);
	if (!e->sid && EVENT_TYPES[t].needs_sid)
		return bad(e, "session_id missing");
	return 0;
}

/* Every reason_code named anywhere must be a contract reason. */
static int check_reason(const struct ev *e)
{
	json_t *r = json_object_get(e->obj, "reason_code");

	if (!r)
		return 0;
	if (!json_is_string(r))
		return bad(e, "reason_code is not a string");
	if (reason(json_string_value(r)) < 0)
		return bad(e, "unknown reason_code '%.60s'", json_string_value(r));
	return 0;
}

/* seq and ts_ms per emitting node */
static int node_rules(struct jv_verify *v, const struct ev *e)
{
	struct vnode *n = node_get(v, e->node);

	if (!n)
		return nomem(e);
	if ((uint64_t)e->seq != n->seq + 1)
		return bad(e, "seq %lld, expected %llu", e->seq,
			   (unsigned long long)n->seq + 1);
	if (e->ts < n->ts)
		return bad(e, "ts_ms %lld goes back in time (last %lld)",
			   (long long)e->ts, (long long)n->ts);
	n->seq++;
	n->ts = e->ts;
	return 0;
}

static bool is_termination_reason(int why)
{
	for (int st = 0; st < JV_STATE__COUNT; st++)
		if (jv_fsm_allowed((enum jv_state)st, JV_STATE_TERMINATED,
				   (enum jv_reason)why))
			return true;
	return false;
}

/* Entering ATTACHED from RECOVERING needs a validated reattach: the
 * latest ReattachResult since RECOVERING began must be SUCCESS. */
static int check_reattach(const struct ev *e, const struct vsession *s)
{
	if (s->last_result == RES_SUCCESS)
		return 0;
	return bad(e, "RECOVERING -> ATTACHED without a ReattachResult SUCCESS "
		   "(latest since RECOVERING: %s)",
		   s->last_result == RES_DENIED ? "DENIED" : "none");
}

static int state_change(struct vsession *s, const struct ev *e)
{
	const char *ps = str(e, "previous_state"), *ns = str(e, "new_state");
	const char *rc = str(e, "reason_code");
	json_t *ver = json_object_get(e->obj, "state_version");
	int from = ps ? jv_state_from_name(ps) : -1;
	int to = ns ? jv_state_from_name(ns) : -1;
	int why = reason(rc);

	if (from < 0 || to < 0 || why < 0 || !json_is_integer(ver))
		return bad(e, "needs previous_state, new_state (known states), "
			   "reason_code and state_version (integer)");
	if ((enum jv_state)from != s->state)
		return bad(e, "previous_state %s but the session is %s", ps,
			   jv_state_name(s->state));
	if (!jv_fsm_allowed(s->state, (enum jv_state)to, (enum jv_reason)why))
		return bad(e, "%s -> %s (%s) is not a transition of the table",
			   ps, ns, rc);
	/* engine/session.c: the first transition carries 1 */
	if (json_integer_value(ver) < 0 ||
	    (uint64_t)json_integer_value(ver) != s->version + 1)
		return bad(e, "state_version %lld, expected %llu",
			   (long long)json_integer_value(ver),
			   (unsigned long long)s->version + 1);
	if (from == JV_STATE_RECOVERING && to == JV_STATE_ATTACHED &&
	    check_reattach(e, s))
		return JV_ERR_INVAL;
	if (to == JV_STATE_RECOVERING)
		s->last_result = RES_NONE;
	if (to == JV_STATE_TERMINATED) {
		s->term_reason = (enum jv_reason)why;
		snprintf(s->term_file, sizeof(s->term_file), "%s", e->file);
		s->term_line = e->lineno;
	}
	s->state = (enum jv_state)to;
	s->version++;
	return 0;
}

static int terminated(struct vsession *s, const struct ev *e)
{
	const char *rc = str(e, "reason_code");
	int why = reason(rc);

	if (!rc)
		return bad(e, "SessionTerminated without reason_code");
	if (!is_termination_reason(why))
		return bad(e, "reason_code '%s' is not a termination reason", rc);
	if (s->state != JV_STATE_TERMINATED)
		return bad(e, "SessionTerminated before a change to TERMINATED "
			   "(the session is %s)", jv_state_name(s->state));
	if (why != (int)s->term_reason)
		return bad(e, "reason_code '%s' differs from the transition's '%s'",
			   rc, jv_reason_name(s->term_reason));
	s->terminated_event = true;
	return 0;
}

static int reattach_result(struct vsession *s, const struct ev *e)
{
	const char *st = str(e, "status");

	if (st && strcmp(st, "SUCCESS") == 0)
		s->last_result = RES_SUCCESS;
	else if (st && strcmp(st, "DENIED") == 0)
		s->last_result = RES_DENIED;
	else
		return bad(e, "status must be SUCCESS or DENIED");
	return 0;
}

/* At most max switches in any (ts - 60000, ts]: the (max+1)-th latest
 * switch, this one included, must be 60 s old or more. */
static int switch_rate(struct jv_verify *v, struct vsession *s,
		       const struct ev *e)
{
	size_t cap = (size_t)v->max_switches + 1;
	int64_t old;

	if (!s->switches && !(s->switches = calloc(cap, sizeof(int64_t))))
		return nomem(e);
	s->switches[s->nswitch % cap] = e->ts;
	s->nswitch++;
	if (s->nswitch < cap)
		return 0;
	old = s->switches[(s->nswitch - cap) % cap];
	if (e->ts - old < WINDOW_MS)
		return bad(e, "%zu switches within 60 s (allowed %u)", cap,
			   v->max_switches);
	return 0;
}

static int session_rules(struct jv_verify *v, const struct ev *e)
{
	struct vsession *s = session_get(v, e->node, e->sid);

	if (!s)
		return nomem(e);
	if (s->terminated_event)
		return bad(e, "event after SessionTerminated");
	if (strcmp(e->type, "SessionTerminated") == 0)
		return terminated(s, e);
	/* TERMINATED is absorbing: only its SessionTerminated may follow */
	if (s->state == JV_STATE_TERMINATED)
		return bad(e, "event after the session was TERMINATED "
			   "(only SessionTerminated may follow)");
	if (strcmp(e->type, "SessionStateChange") == 0)
		return state_change(s, e);
	if (strcmp(e->type, "ReattachResult") == 0)
		return reattach_result(s, e);
	if (strcmp(e->type, "TransportSwitch") == 0)
		return switch_rate(v, s, e);
	/* TransitionRejected and the rest change nothing */
	return 0;
}

int jv_verify_line(struct jv_verify *v, const char *line, size_t len,
		   const char *file, int lineno, struct jv_error *err)
{
	struct ev e = { .file = file, .lineno = lineno, .err = err };
	json_error_t jerr;
	int rc;

	/* duplicate keys would let two readers see two different events */
	e.obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!e.obj)
		return bad(&e, "not a JSON object: %s", jerr.text);
	if (!json_is_object(e.obj)) {
		json_decref(e.obj);
		return bad(&e, "not a JSON object");
	}
	rc = check_common(&e);
	if (!rc)
		rc = check_reason(&e);
	if (!rc)
		rc = node_rules(v, &e);
	if (!rc && e.sid)
		rc = session_rules(v, &e);
	if (!rc)
		v->events++;
	json_decref(e.obj);
	return rc;
}

int jv_verify_finish(struct jv_verify *v, struct jv_error *err)
{
	for (size_t i = 0; i < v->nsessions; i++) {
		struct vsession *s = &v->sessions[i];

		if (s->state == JV_STATE_TERMINATED && !s->terminated_event)
			return jv_error_set(err, JV_ERR_INVAL, s->term_file,
					    s->term_line,
					    "node %s, session %s: TERMINATED but "
					    "no SessionTerminated event follows",
					    s->node, s->sid);
	}
	return 0;
}

void jv_verify_counts(const struct jv_verify *v, struct jv_verify_counts *out)
{
	out->events = v->events;
	out->sessions = json_object_size(v->sids);
	out->timelines = v->nsessions;
	out->nodes = v->nnodes;
}
