/* The timeline of audit events as a picture, for an incident report
 * (`jvpn audit timeline --svg`): one row per node, run and session, the
 * session's states over time as coloured bands, the active transport as a
 * thin labelled band under them, and every switch, denial, transport death
 * and termination as a mark with its reason; security events as small
 * marks. A time axis in seconds from the first event. Pure: events in, SVG
 * text out (no file, no clock). */
#ifndef JV_CLI_TIMELINE_SVG_H
#define JV_CLI_TIMELINE_SVG_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Writes a self-contained SVG document (about 1200 px wide) of the events
 * to f. The events may come in any order: they are merged by ts_ms,
 * stably. ts_ms above 10^12 is taken for Unix time (the title then gives
 * t0 as UTC wall time), else for the simulator's virtual time. Every
 * string of the events is escaped for XML and cut to a readable length.
 * Returns 0, or -1 when out of memory or writing f failed. */
int jv_timeline_svg(FILE *f, json_t *const *events, size_t n);

/* Writes s as XML character data, at most max characters (max >= 1): a
 * longer s ends in an ellipsis. What XML cannot carry (control characters,
 * broken UTF-8, U+FFFE, U+FFFF) becomes '?'. Returns the number of
 * characters written. */
size_t jv_svg_text(FILE *f, const char *s, size_t max);

#endif
