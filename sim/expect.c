/* Checks a scenario's expect block against the merged event stream. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsm.h"
#include "sim/sim.h"

/* Does the event's field `key` equal `want` (compared as text)? */
static bool field_eq(json_t *ev, const char *key, const char *want)
{
	json_t *v = json_object_get(ev, key);
	char buf[64];

	if (!v)
		return false;
	switch (json_typeof(v)) {
	case JSON_STRING:
		return strcmp(json_string_value(v), want) == 0;
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%lld",
			 (long long)json_integer_value(v));
		return strcmp(buf, want) == 0;
	case JSON_REAL: {
		char *end;
		double d = strtod(want, &end);
		return *end == '\0' && fabs(d - json_real_value(v)) < 1e-9;
	}
	case JSON_TRUE:
		return strcmp(want, "true") == 0;
	case JSON_FALSE:
		return strcmp(want, "false") == 0;
	case JSON_NULL:
		return strcmp(want, "null") == 0 || strcmp(want, "~") == 0;
	default:
		return false;
	}
}

static bool matches(json_t *ev, const struct jv_sim_matcher *m)
{
	json_int_t ts = json_integer_value(json_object_get(ev, "ts_ms"));

	if ((uint64_t)ts < m->after_ms || (uint64_t)ts >= m->before_ms)
		return false;
	for (uint32_t i = 0; i < m->n; i++)
		if (!field_eq(ev, m->key[i], m->val[i]))
			return false;
	return true;
}

static void describe(const struct jv_sim_matcher *m, char *buf, size_t cap)
{
	size_t n = 0;

	n += (size_t)snprintf(buf + n, cap - n, "{");
	for (uint32_t i = 0; i < m->n && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s: %s",
				      i ? ", " : " ", m->key[i], m->val[i]);
	if (m->after_ms && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, ", after_ms: %llu",
				      (unsigned long long)m->after_ms);
	if (m->before_ms != UINT64_MAX && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, ", before_ms: %llu",
				      (unsigned long long)m->before_ms);
	if (n < cap)
		snprintf(buf + n, cap - n, " }");
}

/* expect.final_state for one node (want < 0: unchecked); res->why says
 * why not. */
static bool final_state_ok(struct jv_sim_result *res, const char *role,
			   int got, int want)
{
	if (want < 0 || got == want)
		return true;
	snprintf(res->why, sizeof(res->why),
		 "expect.final_state: %s is %s, expected %s", role,
		 jv_state_name(got), jv_state_name(want));
	return false;
}

void jv_sim_check(const struct jv_scenario *sc, struct jv_sim_result *res,
		  int final_client, int final_server)
{
	json_t **ev = calloc(res->nlines ? res->nlines : 1, sizeof(*ev));
	char desc[320];
	size_t pos = 0;
	const char *sid = NULL;
	int nsids = 0;

	res->pass = false;
	if (!ev) {
		snprintf(res->why, sizeof(res->why), "out of memory");
		return;
	}
	for (size_t i = 0; i < res->nlines; i++) {
		ev[i] = json_loads(res->lines[i], 0, NULL);
		if (!ev[i]) {
			snprintf(res->why, sizeof(res->why),
				 "event %zu is not JSON", i + 1);
			goto out;
		}
	}
	for (uint32_t k = 0; k < sc->nsequence; k++) {
		while (pos < res->nlines && !matches(ev[pos], &sc->sequence[k]))
			pos++;
		if (pos == res->nlines) {
			describe(&sc->sequence[k], desc, sizeof(desc));
			snprintf(res->why, sizeof(res->why),
				 "expect.sequence step %u (line %d) not seen in order: %s",
				 k + 1, sc->sequence[k].line, desc);
			goto out;
		}
		pos++;
	}
	for (uint32_t k = 0; k < sc->nabsent; k++)
		for (size_t i = 0; i < res->nlines; i++)
			if (matches(ev[i], &sc->absent[k])) {
				describe(&sc->absent[k], desc, sizeof(desc));
				snprintf(res->why, sizeof(res->why),
					 "expect.absent (line %d) matched event %zu: %s",
					 sc->absent[k].line, i + 1, desc);
				goto out;
			}
	for (uint32_t k = 0; k < sc->ncounts; k++) {
		int64_t n = 0;

		for (size_t i = 0; i < res->nlines; i++)
			n += matches(ev[i], &sc->counts[k].m);
		if ((sc->counts[k].min >= 0 && n < sc->counts[k].min) ||
		    (sc->counts[k].max >= 0 && n > sc->counts[k].max)) {
			describe(&sc->counts[k].m, desc, sizeof(desc));
			snprintf(res->why, sizeof(res->why),
				 "expect.count (line %d): %lld events match %s, allowed %lld..%lld",
				 sc->counts[k].m.line, (long long)n, desc,
				 (long long)sc->counts[k].min,
				 (long long)sc->counts[k].max);
			goto out;
		}
	}
	if (!final_state_ok(res, "client", final_client, sc->final_client) ||
	    !final_state_ok(res, "server", final_server, sc->final_server))
		goto out;
	for (size_t i = 0; i < res->nlines && nsids < 2; i++) {
		const char *s = json_string_value(json_object_get(ev[i],
								  "session_id"));
		if (s && (!sid || strcmp(s, sid) != 0)) {
			nsids++;     /* 2 means "more than one": enough */
			sid = s;
		}
	}
	if (sc->same_session == 1 && nsids != 1) {
		snprintf(res->why, sizeof(res->why),
			 "expect.same_session: %s", nsids ? "more than one session_id"
							   : "no session at all");
		goto out;
	}
	if (sc->same_session == 0 && nsids < 2) {
		snprintf(res->why, sizeof(res->why),
			 "expect.same_session false: only one session_id seen");
		goto out;
	}
	if (sc->min_delivery >= 0) {
		for (int d = 0; d < 2; d++) {
			double r = res->sent[d] ? (double)res->delivered[d] /
							  (double)res->sent[d]
						: 1.0;
			if (r < sc->min_delivery) {
				snprintf(res->why, sizeof(res->why),
					 "expect.min_delivery: %s delivered %llu of %llu (%.3f < %.3f)",
					 d == 0 ? "client->server" : "server->client",
					 (unsigned long long)res->delivered[d],
					 (unsigned long long)res->sent[d], r,
					 sc->min_delivery);
				goto out;
			}
		}
	}
	res->pass = true;
out:
	for (size_t i = 0; i < res->nlines; i++)
		if (ev[i])
			json_decref(ev[i]);
	free(ev);
}
