/* A readable timeline of audit events: one line per state change and per
 * notable event (time, node, what, reason). Used by `jvpn sim --timeline`
 * and `jvpn audit timeline`. */
#ifndef JV_CLI_TIMELINE_H
#define JV_CLI_TIMELINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Prints one event, or nothing for events of no interest to people.
 * wall: ts_ms is Unix time (printed as UTC HH:MM:SS.mmm), else virtual
 * milliseconds. */
void jv_timeline_print(FILE *f, json_t *ev, bool wall);

#endif
