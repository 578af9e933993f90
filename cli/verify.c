/* jvpn audit verify: replays each node's events through the transition
 * table (core/fsm.c, the same one the engine uses) and checks the rules
 * the CONTRACT makes testable. One bad line ends the check: after it, the
 * reconstructed timelines no longer mean anything.
 *
 * A node's events come in runs (one per daemon start, named by run_id):
 * seq and ts_ms are checked per run, sessions live inside one run. A run
 * may be seen from its middle only where a node's events open a file (the
 * file was rotated while the run went on); anywhere else, and across the
 * files of one run, seq must go on without a gap. Events without run_id
 * (logs older than it) form one run per node, checked from seq 1. */
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
#define RUN_LEN 16         /* run_id: 64 random bits in hex */
#define WINDOW_MS 60000    /* switches count in (ts - 60000, ts], as core/limiter.c */

struct vnode {
	char id[NODE_MAX + 1];
	size_t run;            /* its latest run: index + 1, 0 before any */
	uint64_t file;         /* the file of its latest event (a generation) */
};

/* One run of one node: a daemon from start to exit. */
struct vrun {
	uint64_t seq;          /* last seen; the next must be seq + 1 */
	int64_t ts;
	int64_t start;         /* run_start_ms */
	bool partial;          /* seen from its middle */
};

/* RES_UNKNOWN: the session was first seen in the middle of its life and
 * no ReattachResult of it has been seen yet. */
enum { RES_NONE, RES_SUCCESS, RES_DENIED, RES_UNKNOWN };

/* One session as one node saw it in one run. */
struct vsession {
	char node[NODE_MAX + 1];
	char sid[SID_LEN + 1];
	bool known;                   /* state known; false until the first
					 change when seen from mid-life */
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
	json_t *run_index;
	json_t *sids;                        /* distinct session ids */
	struct vnode *nodes;
	size_t nnodes, cnodes;
	struct vrun *runs;
	size_t nruns, cruns;
	char *file;                          /* the file being read */
	uint64_t file_gen;                   /* +1 per change of file */
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
	{ "SecurityInnerSourceRejected", true },
	{ "SessionTerminated", true },
	{ "KeyRotated", true },
	{ "TransitionRejected", true },
	{ "PolicyLoaded", false },
	{ "PolicyRejected", false },
	{ "HandshakeLoad", false },
};

/* The line being checked; the fields are filled as they are validated. */
struct ev {
	json_t *obj;
	const char *file;
	int lineno;
	struct jv_error *err;
	const char *type, *node, *sid;
	const char *run;       /* "" when absent (the old format) */
	bool run_partial;      /* its run is seen from the middle */
	long long seq;
	int64_t ts, run_start;
};

struct jv_verify *jv_verify_new(uint32_t max_switches_per_min)
{
	struct jv_verify *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->max_switches = max_switches_per_min;
	v->node_index = json_object();
	v->session_index = json_object();
	v->run_index = json_object();
	v->sids = json_object();
	if (!v->node_index || !v->session_index || !v->run_index || !v->sids) {
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
	json_decref(v->run_index);
	json_decref(v->sids);
	for (size_t i = 0; i < v->nsessions; i++)
		free(v->sessions[i].switches);
	free(v->file);
	free(v->runs);
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

/* The item named key in an indexed array (index: key -> position), added
 * zeroed at the end when new (*new set); NULL on ENOMEM. */
static void *item_get(json_t *index, const char *key, void **arr,
		      size_t *cap, size_t *n, size_t elem, bool *new)
{
	size_t i = lookup(index, key, *n, new);
	void *a;

	if (!*new)
		return (char *)*arr + i * elem;
	a = grow(*arr, cap, *n, elem);
	if (!a)
		return NULL;
	*arr = a;
	if (json_object_set_new(index, key, json_integer((json_int_t)i)))
		return NULL;
	(*n)++;
	return (char *)a + i * elem;
}

#define ITEM_GET(v, index, key, arr, cap, n, new)                            \
	item_get((v)->index, key, (void **)&(v)->arr, &(v)->cap, &(v)->n,   \
		 sizeof(*(v)->arr), new)

static struct vnode *node_get(struct jv_verify *v, const char *id)
{
	bool new;
	struct vnode *n = ITEM_GET(v, node_index, id, nodes, cnodes, nnodes,
				   &new);

	/* id was checked to fit */
	if (n && new)
		strcpy(n->id, id);
	return n;
}

/* The run of node named run ("" for the old format); *new if first seen. */
static struct vrun *run_get(struct jv_verify *v, const char *node,
			    const char *run, bool *new)
{
	/* run has a fixed length or is empty, so "run|node" names one pair */
	char key[RUN_LEN + 1 + NODE_MAX + 1];

	snprintf(key, sizeof(key), "%s|%s", run, node);
	return ITEM_GET(v, run_index, key, runs, cruns, nruns, new);
}

static struct vsession *session_get(struct jv_verify *v, const char *node,
				    const char *run, const char *sid,
				    bool known)
{
	/* sid and run have fixed lengths (run may be empty), so
	 * "run|sid|node" names one triple only */
	char key[RUN_LEN + 1 + SID_LEN + 1 + NODE_MAX + 1];
	struct vsession *s;
	bool new;

	snprintf(key, sizeof(key), "%s|%s|%s", run, sid, node);
	s = ITEM_GET(v, session_index, key, sessions, csessions, nsessions,
		     &new);
	if (!s || !new)
		return s;
	if (json_object_set_new(v->sids, sid, json_true()))
		return NULL;
	strcpy(s->node, node);
	strcpy(s->sid, sid);
	s->state = JV_STATE_BIRTH;
	s->known = known;
	s->last_result = known ? RES_NONE : RES_UNKNOWN;
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

/* exactly n lowercase hex characters */
static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == n && s[i] == '\0';
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

/* run_id and run_start_ms come together, or (the old format) not at all */
static int check_run(struct ev *e)
{
	json_t *run = json_object_get(e->obj, "run_id");
	json_t *start = json_object_get(e->obj, "run_start_ms");

	e->run = "";
	if (!run && !start)
		return 0;
	if (!run)
		return bad(e, "run_start_ms without run_id");
	if (!json_is_string(run) || !is_hex(json_string_value(run), RUN_LEN))
		return bad(e, "run_id is not %d lowercase hex characters",
			   RUN_LEN);
	if (!start)
		return bad(e, "run_id without run_start_ms");
	if (!json_is_integer(start) || json_integer_value(start) < 0)
		return bad(e, "run_start_ms is not a non-negative integer");
	e->run = json_string_value(run);
	e->run_start = json_integer_value(start);
	return 0;
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
	if (sid && (!json_is_string(sid) ||
		    !is_hex(json_string_value(sid), SID_LEN)))
		return bad(e, "session_id is not 32 lowercase hex characters");
	e->sid = json_string_value(sid);
	if (!e->sid && EVENT_TYPES[t].needs_sid)
		return bad(e, "session_id missing");
	/* who and where (CONTRACT section 8), on events about a peer; logs
	 * written before them have neither */
	if (json_object_get(e->obj, "peer") &&
	    (!str(e, "peer") || !*str(e, "peer")))
		return bad(e, "peer is not a non-empty string");
	if (json_object_get(e->obj, "remote") &&
	    (!str(e, "remote") || !*str(e, "remote")))
		return bad(e, "remote is not a non-empty string");
	return check_run(e);
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

/* HandshakeLoad (CONTRACT section 9): the server's, saying which mode it
 * entered. */
static int check_load(const struct ev *e)
{
	if (strcmp(e->type, "HandshakeLoad") != 0)
		return 0;
	if (!json_is_boolean(json_object_get(e->obj, "under_load")))
		return bad(e, "under_load missing or not true or false");
	if (strcmp(str(e, "role"), "server") != 0)
		return bad(e, "HandshakeLoad from a client");
	return 0;
}

/* A run's first event here: seq 1, or, where this node's events open a
 * file, anywhere in the run (the file was rotated while it went on). The
 * old format has no runs to tell a restart from a gap: seq 1 only. */
static int run_begins(struct vrun *r, const struct ev *e, bool opens_file)
{
	if (e->seq != 1 && (!e->run[0] || !opens_file))
		return bad(e, "seq %lld, expected 1 (%s)", e->seq,
			   e->run[0] ? "a run that does not open the file "
				       "starts at 1" : "no run_id");
	r->partial = e->seq != 1;
	r->start = e->run_start;
	return 0;
}

/* seq and ts_ms per run of the emitting node */
static int node_rules(struct jv_verify *v, struct ev *e)
{
	struct vnode *n = node_get(v, e->node);
	bool opens_file, new;
	struct vrun *r;
	size_t i;

	if (!n)
		return nomem(e);
	opens_file = n->file != v->file_gen;
	n->file = v->file_gen;
	r = run_get(v, e->node, e->run, &new);
	if (!r)
		return nomem(e);
	i = (size_t)(r - v->runs);
	if (new) {
		if (run_begins(r, e, opens_file))
			return JV_ERR_INVAL;
	} else if (n->run != i + 1) {
		/* a daemon's run ends with its process */
		return bad(e, "run %s of node %s ended: a later run began "
			   "before this event", e->run, e->node);
	} else if ((uint64_t)e->seq != r->seq + 1) {
		return bad(e, "seq %lld, expected %llu", e->seq,
			   (unsigned long long)r->seq + 1);
	} else if (e->ts < r->ts) {
		return bad(e, "ts_ms %lld goes back in time (last %lld)",
			   (long long)e->ts, (long long)r->ts);
	} else if (e->run_start != r->start) {
		return bad(e, "run_start_ms %lld differs from its run's %lld",
			   (long long)e->run_start, (long long)r->start);
	}
	if (e->run[0] && e->ts < e->run_start)
		return bad(e, "ts_ms %lld is before run_start_ms %lld",
			   (long long)e->ts, (long long)e->run_start);
	n->run = i + 1;
	r->seq = (uint64_t)e->seq;
	r->ts = e->ts;
	e->run_partial = r->partial;
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
 * latest ReattachResult since RECOVERING began must be SUCCESS. Seen from
 * mid-life with no result seen, the result may have come before. */
static int check_reattach(const struct ev *e, const struct vsession *s)
{
	if (s->last_result == RES_SUCCESS || s->last_result == RES_UNKNOWN)
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
	/* seen from mid-life: the first change says where the session was;
	 * every event seen before it happened in that state */
	if (!s->known) {
		s->known = true;
		s->state = (enum jv_state)from;
		if (json_integer_value(ver) > 0)
			s->version = (uint64_t)json_integer_value(ver) - 1;
	}
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
	/* seen from mid-life: its change to TERMINATED came just before */
	if (!s->known) {
		s->known = true;
		s->state = JV_STATE_TERMINATED;
		s->term_reason = (enum jv_reason)why;
	}
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
	/* in a run seen from its middle, a session not seen being created
	 * may be anywhere in its life */
	bool born = !e->run_partial || strcmp(e->type, "SessionCreated") == 0;
	struct vsession *s = session_get(v, e->node, e->run, e->sid, born);

	if (!s)
		return nomem(e);
	if (s->terminated_event)
		return bad(e, "event after SessionTerminated");
	if (strcmp(e->type, "SessionTerminated") == 0)
		return terminated(s, e);
	/* TERMINATED is absorbing: only its SessionTerminated may follow */
	if (s->known && s->state == JV_STATE_TERMINATED)
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

	if (!v->file || strcmp(v->file, file) != 0) {
		free(v->file);
		if (!(v->file = strdup(file)))
			return nomem(&e);
		v->file_gen++;
	}

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
		rc = check_load(&e);
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
	out->runs = v->nruns;
}
