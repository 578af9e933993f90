/* Readable timelines of audit events. */
#include <string.h>
#include <time.h>

#include "cli/timeline.h"

static const char *str(json_t *ev, const char *key)
{
	const char *s = json_string_value(json_object_get(ev, key));

	return s ? s : "-";
}

/* What the event says, in a few words; "" for events of no interest. */
static void describe(json_t *ev, char *what, size_t cap)
{
	const char *type = str(ev, "event_type");

	what[0] = '\0';
	if (strcmp(type, "SessionStateChange") == 0)
		snprintf(what, cap, "%-10s -> %-10s (%s)",
			 str(ev, "previous_state"), str(ev, "new_state"),
			 str(ev, "reason_code"));
	else if (strcmp(type, "TransportSwitch") == 0)
		snprintf(what, cap, "switch %s -> %s", str(ev, "previous_transport"),
			 str(ev, "new_transport"));
	else if (strcmp(type, "TransportDead") == 0)
		snprintf(what, cap, "transport %s dead (%s)",
			 str(ev, "transport_id"), str(ev, "reason_code"));
	else if (strcmp(type, "TransportSwitchDenied") == 0)
		snprintf(what, cap, "switch to %s denied (%s)",
			 str(ev, "transport_id"), str(ev, "reason_code"));
	else if (strcmp(type, "SessionTerminated") == 0 ||
		 strncmp(type, "Security", 8) == 0 ||
		 strncmp(type, "Policy", 6) == 0 ||
		 strcmp(type, "KeyRotated") == 0 ||
		 strcmp(type, "TransitionRejected") == 0)
		snprintf(what, cap, "%s (%s)", type, str(ev, "reason_code"));
	else if (strcmp(type, "SessionCreated") == 0)
		snprintf(what, cap, "session %.8s created on %s%s%.8s",
			 str(ev, "session_id"), str(ev, "transport_id"),
			 json_object_get(ev, "previous_session_id")
				 ? ", replacing " : "",
			 json_object_get(ev, "previous_session_id")
				 ? str(ev, "previous_session_id") : "");
	else if (strcmp(type, "ReattachResult") == 0)
		snprintf(what, cap, "reattach on %s: %s (%s)",
			 str(ev, "candidate_transport"), str(ev, "status"),
			 str(ev, "reason_code"));
}

void jv_timeline_print(FILE *f, json_t *ev, bool wall)
{
	long long ts = (long long)json_integer_value(json_object_get(ev, "ts_ms"));
	char what[200], when[32];

	describe(ev, what, sizeof(what));
	if (!what[0])
		return;
	if (wall) {
		time_t t = (time_t)(ts / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		snprintf(when, sizeof(when), "%02d:%02d:%02d.%03lld", tm.tm_hour,
			 tm.tm_min, tm.tm_sec, ts % 1000);
	} else {
		snprintf(when, sizeof(when), "%8lld ms", ts);
	}
	fprintf(f, "  %s  %-7s %-10.10s %s\n", when, str(ev, "role"),
		str(ev, "node_id"), what);
}
