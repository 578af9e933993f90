/* The timeline of audit events as an SVG picture (cli/timeline_svg.h).
 *
 * Layout, top to bottom: title (t0), a line of counts, the legend (states,
 * marks, transports), the time axis, then one row per node, run and
 * session, grouped by node in the order the nodes first speak, then the
 * axis again. A row: its name on the left; a strip for the marks' symbols;
 * the state band; the transport band; lanes of mark labels, each label in
 * the first lane where it does not overlap another. Labels have a white
 * halo, so the leader lines of other marks that cross them stay readable. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/timeline_svg.h"
#include "core/fsm.h"

#define WIDTH 1200
#define PX0 250.0              /* the plot, x from PX0 to PX1 */
#define PX1 1165.0
#define CW11 6.7               /* a character of the 11 px monospace font */
#define CW10 6.1
#define CW9 5.5
#define BAND_TOP 14            /* in a row: the state band... */
#define BAND_H 20
#define TBAND_TOP 36           /* ...the transport band... */
#define TBAND_H 11
#define LANE0 59               /* ...the baseline of the first label lane */
#define LANE_H 13
#define MAX_LANES 8
#define SEC_LANES 2            /* security labels only fill these */
#define LABEL_MAX 64           /* characters of a label */
#define NO_EVENT SIZE_MAX

enum kind { K_NONE, K_SWITCH, K_DENIED, K_TERM, K_DEAD, K_SEC };

/* Each state's band colour and the ink of its label; names from core/fsm. */
static const struct {
	const char *fill, *ink;
} STATES[JV_STATE__COUNT] = {
	[JV_STATE_BIRTH] = { "#90caf9", "#0d2a4a" },
	[JV_STATE_ATTACHED] = { "#43a047", "#ffffff" },
	[JV_STATE_VOLATILE] = { "#fdd835", "#3e2f00" },
	[JV_STATE_RECOVERING] = { "#fb8c00", "#2b1700" },
	[JV_STATE_DEGRADED] = { "#e53935", "#ffffff" },
	[JV_STATE_TERMINATED] = { "#424242", "#ffffff" },
};

static const struct {
	const char *colour, *legend;
} MARKS[] = {
	[K_SWITCH] = { "#1565c0", "transport switch (its cause)" },
	[K_DENIED] = { "#c62828", "switch or reattach denied (reason)" },
	[K_DEAD] = { "#6a1b9a", "transport dead (reason)" },
	[K_TERM] = { "#000000", "session terminated (reason)" },
	[K_SEC] = { "#d81b60", "security event (reason)" },
};

/* Transport bands, by a hash of the transport id. */
static const char *const TCOLOURS[] = {
	"#00838f", "#3949ab", "#6d4c41", "#827717", "#546e7a", "#5e35b1",
	"#00897b", "#ad1457",
};

struct ent {
	json_t *ev;
	long long ts;
	size_t order, next;    /* next: the row's next event, or NO_EVENT */
};

struct row {
	const char *node, *role, *run, *session;
	long long first, last, horizon;
	size_t head, tail, created;
	int rank;              /* of the node, in the order nodes appear */
};

struct mark {
	double x;
	enum kind kind;
	long long ts;
	int lane;              /* -1: no label */
	bool left;             /* label to the left of the mark */
	char label[256], tip[512];
};

/* What every part of the picture needs: the time axis (ms since t0 to
 * x) and the transport ids, in the order they first appear (their
 * colours). */
struct view {
	long long t0, end, step;
	const char **tids;
	size_t ntids;
};

/* ---- text ---- */

/* The code point at p and its length in bytes (at least 1), or
 * UINT32_MAX for a byte that does not begin valid UTF-8. */
static size_t utf8_next(const unsigned char *p, uint32_t *cp)
{
	size_t len;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, c = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, c = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, c = p[0] & 0x07;
	else
		goto bad;
	/* a NUL stops here too: it is not a continuation byte */
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto bad;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return len;
bad:
	*cp = UINT32_MAX;
	return 1;
}

static size_t text_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	uint32_t cp;

	while (*p) {
		p += utf8_next(p, &cp);
		n++;
	}
	return n;
}

size_t jv_svg_text(FILE *f, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	bool cut = text_len((const char *)p) > max;
	size_t n = 0, limit = cut ? max - 1 : max;
	uint32_t cp;

	while (*p && n < limit) {
		size_t len = utf8_next(p, &cp);

		if (cp == UINT32_MAX || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
		    cp == 0xfffe || cp == 0xffff)
			fputc('?', f);
		else if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\'')
			fputs("&#39;", f);
		else
			fwrite(p, 1, len, f);
		p += len;
		n++;
	}
	if (cut) {
		fputs("\xe2\x80\xa6", f);      /* … */
		n++;
	}
	return n;
}

/* A label's width on the page, in px. */
static double text_w(const char *s, size_t max, double cw)
{
	size_t n = text_len(s);

	return (double)(n > max ? max : n) * cw;
}

static const char *str(json_t *ev, const char *key)
{
	return json_string_value(json_object_get(ev, key));
}

static const char *str_or(json_t *ev, const char *key, const char *dflt)
{
	const char *s = str(ev, key);

	return s ? s : dflt;
}

/* ---- time ---- */

static double x_of(const struct view *a, long long ts)
{
	return PX0 + (double)(ts - a->t0) * (PX1 - PX0) / (double)(a->end - a->t0);
}

/* Ticks every 1, 2 or 5 times a power of ten ms, about eight of them. */
static void axis_init(struct view *a, long long t0, long long last)
{
	long long span = last - t0, want, p = 1, steps;

	if (span <= 0)
		span = 1000;
	want = span / 8 > 0 ? span / 8 : 1;
	while (p * 10 <= want)
		p *= 10;
	a->step = want <= p ? p : want <= 2 * p ? 2 * p : want <= 5 * p
		? 5 * p : 10 * p;
	/* room after the last event, for its marks and to show the state it
	 * left the sessions in */
	steps = (span + span / 12 + a->step - 1) / a->step;
	a->t0 = t0;
	a->end = t0 + steps * a->step;
}

/* "6.52" seconds since t0, with as many decimals as the step needs. */
static void fmt_rel(char *buf, size_t cap, long long ms, long long step)
{
	int dec = step >= 1000 ? 0 : step >= 100 ? 1 : step >= 10 ? 2 : 3;

	snprintf(buf, cap, "%.*f", dec, (double)ms / 1000.0);
}

/* ---- rows ---- */

static bool same(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static int by_time(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int by_node(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->created < y->created ? -1 : x->created > y->created;
}

static enum kind kind_of(json_t *ev)
{
	const char *type = str_or(ev, "event_type", "");

	if (same(type, "TransportSwitch"))
		return K_SWITCH;
	if (same(type, "TransportSwitchDenied"))
		return K_DENIED;
	if (same(type, "ReattachResult"))
		return same(str_or(ev, "status", ""), "DENIED") ? K_DENIED
								: K_NONE;
	if (same(type, "SessionTerminated"))
		return K_TERM;
	if (same(type, "TransportDead"))
		return K_DEAD;
	if (strncmp(type, "Security", 8) == 0)
		return K_SEC;
	return K_NONE;
}

/* The row of ev, made if new; NULL for an event not drawn. */
static struct row *row_of(struct row *rows, size_t *nrows, json_t *ev,
			  long long ts)
{
	const char *node = str_or(ev, "node_id", "?");
	const char *run = str_or(ev, "run_id", "");
	const char *session = str_or(ev, "session_id", "");
	int rank = -1, ranks = 0;
	struct row *r;

	/* an event of no session shows in its node's row only if marked */
	if (!*session && kind_of(ev) == K_NONE)
		return NULL;
	for (size_t i = 0; i < *nrows; i++) {
		r = &rows[i];
		if (same(r->session, session) && same(r->node, node) &&
		    same(r->run, run))
			return r;
		if (same(r->node, node))
			rank = r->rank;
		if (r->rank >= ranks)
			ranks = r->rank + 1;
	}
	r = &rows[(*nrows)++];
	*r = (struct row){ node, str_or(ev, "role", ""), run, session, ts, ts,
			   ts, NO_EVENT, NO_EVENT, *nrows, rank < 0 ? ranks
								    : rank };
	return r;
}

/* A row's bands end at the end of the axis (a session not terminated is
 * still in its last state as far as the logs know), unless its node began
 * a later run (the daemon restarted): then at the last event of its run. */
static void horizons(struct row *rows, size_t nrows, long long end)
{
	for (size_t i = 0; i < nrows; i++) {
		long long run_last = rows[i].last;
		bool later = false;

		for (size_t j = 0; j < nrows; j++) {
			if (!same(rows[j].node, rows[i].node))
				continue;
			if (same(rows[j].run, rows[i].run)) {
				if (rows[j].last > run_last)
					run_last = rows[j].last;
			}
		}
		for (size_t j = 0; j < nrows; j++)
			if (same(rows[j].node, rows[i].node) &&
			    !same(rows[j].run, rows[i].run) &&
			    rows[j].first > run_last)
				later = true;
		rows[i].horizon = later ? run_last : end;
	}
}

/* ---- drawing ---- */

static size_t state_index(const char *s)
{
	int i = s ? jv_state_from_name(s) : -1;

	return i < 0 ? SIZE_MAX : (size_t)i;
}

static const char *tcolour(const struct view *v, const char *tid)
{
	size_t i = 0;

	while (i < v->ntids && !same(v->tids[i], tid))
		i++;
	return TCOLOURS[i % (sizeof(TCOLOURS) / sizeof(TCOLOURS[0]))];
}

/* The transports that become active, in the order they appear. */
static int transports(struct view *v, const struct ent *e, size_t n)
{
	v->tids = calloc(n ? n : 1, sizeof(*v->tids));
	v->ntids = 0;
	if (!v->tids)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *ids[2] = { str(e[i].ev, "transport_id"),
				       str(e[i].ev, "new_transport") };

		for (int j = 0; j < 2; j++) {
			bool known = !ids[j];

			for (size_t k = 0; k < v->ntids && !known; k++)
				known = same(v->tids[k], ids[j]);
			if (!known)
				v->tids[v->ntids++] = ids[j];
		}
	}
	return 0;
}

static void symbol(FILE *f, enum kind k, double x, double y)
{
	const char *c = MARKS[k].colour;

	switch (k) {
	case K_SWITCH:
		fprintf(f, "<path d=\"M%.1f %.1fl4.5 4.5l-4.5 4.5l-4.5 -4.5z\" "
			"fill=\"%s\"/>", x, y - 4.5, c);
		break;
	case K_DENIED:
		fprintf(f, "<path d=\"M%.1f %.1fl7 7m0 -7l-7 7\" stroke=\"%s\" "
			"stroke-width=\"2.2\"/>", x - 3.5, y - 3.5, c);
		break;
	case K_TERM:
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" "
			"fill=\"%s\"/>", x - 4, y - 4, c);
		break;
	case K_DEAD:
		fprintf(f, "<path d=\"M%.1f %.1fh10l-5 8z\" fill=\"%s\"/>",
			x - 5, y - 4, c);
		break;
	case K_SEC:
		fprintf(f, "<path d=\"M%.1f %.1fh7l-3.5 -6z\" fill=\"%s\"/>",
			x - 3.5, y + 3, c);
		break;
	default:
		break;
	}
}

/* A band segment [a, b) with its tooltip and, if it fits, its name. */
static void segment(FILE *f, const struct view *ax, long long a, long long b,
		    double y, double h, const char *fill, const char *ink,
		    const char *name, double cw, const char *tip_what,
		    const char *tip_why)
{
	double x0 = x_of(ax, a), x1 = x_of(ax, b), w = x1 - x0;
	char t0[32], t1[32];
	size_t fit;

	if (w < 0.5)
		return;
	fmt_rel(t0, sizeof(t0), a - ax->t0, 1);
	fmt_rel(t1, sizeof(t1), b - ax->t0, 1);
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"%s\"><title>", x0, y, w, h, fill);
	jv_svg_text(f, tip_what, LABEL_MAX);
	fprintf(f, " %s s to %s s", t0, t1);
	if (tip_why) {
		fputs(" (", f);
		jv_svg_text(f, tip_why, LABEL_MAX);
		fputc(')', f);
	}
	fputs("</title></rect>\n", f);
	fit = w > 6 ? (size_t)((w - 6) / cw) : 0;
	if (fit >= 3 && (fit >= text_len(name) || fit >= 6)) {
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" "
			"font-size=\"%d\">", x0 + 3, y + h / 2 + (cw > CW10
			? 3.5 : 3), ink, cw > CW9 ? 10 : 9);
		jv_svg_text(f, name, fit);
		fputs("</text>\n", f);
	}
}

struct band {
	const char *name, *why;
	long long since;
};

static void close_state(FILE *f, const struct view *ax, struct band *b,
			long long now, double y)
{
	size_t i = state_index(b->name);

	if (!b->name)
		return;
	segment(f, ax, b->since, now, y, BAND_H,
		i == SIZE_MAX ? "#ffffff" : STATES[i].fill,
		i == SIZE_MAX ? "#000000" : STATES[i].ink, b->name, CW10,
		b->name, b->why);
	if (i == SIZE_MAX)      /* a state of no colour: outlined */
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%d\" fill=\"none\" stroke=\"#757575\"/>\n",
			x_of(ax, b->since), y, x_of(ax, now) - x_of(ax, b->since),
			BAND_H);
}

static void close_transport(FILE *f, const struct view *ax, struct band *b,
			    long long now, double y)
{
	if (b->name)
		segment(f, ax, b->since, now, y, TBAND_H, tcolour(ax, b->name),
			"#ffffff", b->name, CW9, b->name, NULL);
}

static void set_band(FILE *f, const struct view *ax, struct band *b,
		     const char *name, const char *why, long long now, double y,
		     bool state)
{
	if (b->name && name && same(b->name, name))
		return;
	if (state)
		close_state(f, ax, b, now, y);
	else
		close_transport(f, ax, b, now, y);
	*b = (struct band){ name, why, now };
}

/* The mark of ev, if any: its label and tooltip. cause: why the session
 * last left ATTACHED, the cause of the switch that follows. */
static bool make_mark(json_t *ev, const char *cause, struct mark *m)
{
	const char *reason = str_or(ev, "reason_code", "?");

	m->kind = kind_of(ev);
	m->lane = -1;
	switch (m->kind) {
	case K_SWITCH:
		snprintf(m->label, sizeof(m->label), "%s \xe2\x86\x92 %s%s%s%s",
			 str_or(ev, "previous_transport", "?"),
			 str_or(ev, "new_transport", "?"), cause ? " (" : "",
			 cause ? cause : "", cause ? ")" : "");
		break;
	case K_DENIED:
		if (same(str_or(ev, "event_type", ""), "ReattachResult"))
			snprintf(m->label, sizeof(m->label),
				 "reattach %s DENIED (%s)",
				 str_or(ev, "candidate_transport", "?"), reason);
		else
			snprintf(m->label, sizeof(m->label),
				 "switch to %s denied (%s)",
				 str_or(ev, "transport_id", "?"), reason);
		break;
	case K_TERM:
		snprintf(m->label, sizeof(m->label), "terminated (%s)", reason);
		break;
	case K_DEAD:
		snprintf(m->label, sizeof(m->label), "%s dead (%s)",
			 str_or(ev, "transport_id", "?"), reason);
		break;
	case K_SEC:
		snprintf(m->label, sizeof(m->label), "%s", reason);
		break;
	default:
		return false;
	}
	snprintf(m->tip, sizeof(m->tip), "%s: %s%s%s",
		 str_or(ev, "event_type", "?"), m->label,
		 m->kind == K_SEC && str(ev, "transport_id") ? " on " : "",
		 m->kind == K_SEC ? str_or(ev, "transport_id", "") : "");
	return true;
}

/* Puts each label in the first lane where it overlaps no other (labels in
 * time order; security labels only in the first lanes). Returns the lanes
 * used; *hidden counts the labels left out. */
static int place_labels(struct mark *m, size_t n, int *hidden)
{
	double end[MAX_LANES];
	int used = 0;

	*hidden = 0;
	for (int l = 0; l < MAX_LANES; l++)
		end[l] = -1e9;
	for (size_t i = 0; i < n; i++) {
		double w = text_w(m[i].label, LABEL_MAX, CW11) + 3;
		int lanes = m[i].kind == K_SEC ? SEC_LANES : MAX_LANES;

		m[i].left = m[i].x + w > WIDTH - 6;
		double a = m[i].left ? m[i].x - w : m[i].x;
		double b = m[i].left ? m[i].x : m[i].x + w;

		for (int l = 0; l < lanes; l++) {
			if (end[l] + 8 <= a) {
				m[i].lane = l;
				end[l] = b;
				if (l + 1 > used)
					used = l + 1;
				break;
			}
		}
		if (m[i].lane < 0)
			(*hidden)++;
	}
	return used;
}

static void draw_marks(FILE *f, const struct view *ax, struct mark *m,
		       size_t n, double y)
{
	char t[32];

	for (size_t i = 0; i < n; i++) {     /* leader lines, behind */
		double bottom = m[i].lane < 0 ? y + TBAND_TOP + TBAND_H + 2
			: y + LANE0 + m[i].lane * LANE_H + 2;

		if (m[i].kind == K_SEC && m[i].lane < 0)
			continue;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%s\"%s/>\n",
			m[i].x, y + 8, m[i].x, bottom, MARKS[m[i].kind].colour,
			m[i].kind == K_TERM ? "1.6" : m[i].kind == K_SEC ? "0.7"
						     : "1.1",
			m[i].kind == K_DENIED ? " stroke-dasharray=\"3 2\""
			: m[i].kind == K_SEC ? " stroke-dasharray=\"1 2\"" : "");
	}
	for (size_t i = 0; i < n; i++) {     /* symbols, with the tooltip */
		fmt_rel(t, sizeof(t), m[i].ts - ax->t0, 1);
		fputs("<g>", f);
		symbol(f, m[i].kind, m[i].x, y + 7);
		fprintf(f, "<title>%s s ", t);
		jv_svg_text(f, m[i].tip, 2 * LABEL_MAX);
		fputs("</title></g>\n", f);
	}
	for (size_t i = 0; i < n; i++) {     /* labels, on top */
		if (m[i].lane < 0)
			continue;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\"%s>",
			m[i].left ? m[i].x - 3 : m[i].x + 3,
			y + LANE0 + m[i].lane * LANE_H, MARKS[m[i].kind].colour,
			m[i].left ? " text-anchor=\"end\"" : "");
		jv_svg_text(f, m[i].label, LABEL_MAX);
		fputs("</text>\n", f);
	}
}

/* One row at y; returns its height. marks: room for the row's events. */
static double draw_row(FILE *f, const struct view *ax, struct ent *e,
		       const struct row *r, struct mark *marks, double y,
		       bool shade)
{
	struct band st = { 0 }, tr = { 0 };
	const char *cause = NULL;
	size_t n = 0;
	int lanes, hidden, lines;
	double h;
	char line[96];

	/* marks first: their lanes give the row's height */
	for (size_t i = r->head; i != NO_EVENT; i = e[i].next) {
		json_t *ev = e[i].ev;

		if (same(str_or(ev, "event_type", ""), "SessionStateChange") &&
		    same(str_or(ev, "previous_state", ""), "ATTACHED"))
			cause = str(ev, "reason_code");
		if (make_mark(ev, cause, &marks[n])) {
			marks[n].x = x_of(ax, e[i].ts);
			marks[n].ts = e[i].ts;
			n++;
		}
	}
	lanes = place_labels(marks, n, &hidden);
	lines = 2 + (*r->run != 0) + (hidden > 0);
	h = LANE0 + (lanes ? (lanes - 1) * LANE_H + 4 : -LANE_H + 2) + 8;
	if (h < 12 + lines * 13 + 4)
		h = 12 + lines * 13 + 4;

	/* see-through, over the grid lines */
	if (shade)
		fprintf(f, "<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
			"fill=\"#000000\" fill-opacity=\"0.035\"/>\n", y, WIDTH, h);
	fprintf(f, "<g font-family=\"DejaVu Sans Mono, Liberation Mono, "
		"monospace\" font-size=\"11\">\n");

	/* the row's name */
	fprintf(f, "<text x=\"10\" y=\"%.1f\" font-weight=\"bold\" "
		"font-size=\"12\">", y + 22);
	jv_svg_text(f, r->node, 22);
	fputs("</text>\n", f);
	fprintf(f, "<text x=\"10\" y=\"%.1f\" fill=\"#424242\">", y + 35);
	if (*r->session) {
		snprintf(line, sizeof(line), "%s session %.8s", r->role,
			 r->session);
		jv_svg_text(f, line, 34);
	} else {
		jv_svg_text(f, r->role, 16);
		fputs(" (no session)", f);
	}
	fputs("</text>\n", f);
	lines = 2;
	if (*r->run) {
		snprintf(line, sizeof(line), "run %.8s", r->run);
		fprintf(f, "<text x=\"10\" y=\"%.1f\" fill=\"#757575\">",
			y + 22 + 13 * lines++);
		jv_svg_text(f, line, 34);
		fputs("</text>\n", f);
	}
	if (hidden)
		fprintf(f, "<text x=\"10\" y=\"%.1f\" fill=\"#757575\">"
			"%d label%s not shown</text>\n", y + 22 + 13 * lines,
			hidden, hidden == 1 ? "" : "s");

	/* the bands */
	if (*r->session) {
		for (size_t i = r->head; i != NO_EVENT; i = e[i].next) {
			json_t *ev = e[i].ev, *t;
			const char *type = str_or(ev, "event_type", "");
			long long ts = e[i].ts;

			if (same(type, "SessionCreated")) {
				if (!st.name)
					set_band(f, ax, &st, "BIRTH", "created",
						 ts, y + BAND_TOP, true);
				set_band(f, ax, &tr, str(ev, "transport_id"),
					 NULL, ts, y + TBAND_TOP, false);
			} else if (same(type, "SessionStateChange")) {
				/* a log that begins in the middle of a
				 * session: the state before its first change */
				if (!st.name)
					set_band(f, ax, &st,
						 str(ev, "previous_state"),
						 NULL, r->first, y + BAND_TOP,
						 true);
				set_band(f, ax, &st, str(ev, "new_state"),
					 str(ev, "reason_code"), ts,
					 y + BAND_TOP, true);
				t = json_object_get(ev, "transport_id");
				if (t)
					set_band(f, ax, &tr,
						 json_string_value(t), NULL, ts,
						 y + TBAND_TOP, false);
			} else if (same(type, "TransportSwitch")) {
				set_band(f, ax, &tr, str(ev, "new_transport"),
					 NULL, ts, y + TBAND_TOP, false);
			}
		}
		close_state(f, ax, &st, r->horizon, y + BAND_TOP);
		close_transport(f, ax, &tr, r->horizon, y + TBAND_TOP);
	}
	draw_marks(f, ax, marks, n, y);
	fputs("</g>\n", f);
	return h;
}

/* ---- the document ---- */

static void title(FILE *f, long long t0, bool wall, size_t nev,
		  int nodes, size_t sessions, long long span)
{
	fputs("<text x=\"10\" y=\"26\" font-size=\"17\" font-weight=\"bold\">"
	      "jvpn audit timeline \xe2\x80\x94 t0 = ", f);
	if (wall) {
		time_t t = (time_t)(t0 / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		fprintf(f, "%04d-%02d-%02d %02d:%02d:%02d.%03lld UTC",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			tm.tm_hour, tm.tm_min, tm.tm_sec, t0 % 1000);
	} else {
		fprintf(f, "%lld ms virtual time (jvpn sim)", t0);
	}
	fprintf(f, "</text>\n<text x=\"10\" y=\"44\" font-size=\"12\" "
		"fill=\"#616161\">%zu events, %d node%s, %zu session%s, "
		"%.3f s; times in seconds since t0</text>\n", nev, nodes,
		nodes == 1 ? "" : "s", sessions, sessions == 1 ? "" : "s",
		(double)span / 1000.0);
}

/* A legend item at *x, *y, wrapping to a new line at the right edge. */
static void legend_at(double *x, double *y, double w)
{
	if (*x + w > WIDTH - 10) {
		*x = 90;
		*y += 18;
	}
}

/* Returns the y below the legend. */
static double legend(FILE *f, const struct view *v, double y)
{
	double x = 90;
	size_t shown = v->ntids < 12 ? v->ntids : 12;

	fprintf(f, "<g font-family=\"DejaVu Sans Mono, Liberation Mono, "
		"monospace\" font-size=\"11\">\n<text x=\"10\" y=\"%.1f\" "
		"font-weight=\"bold\">states</text>\n", y + 9);
	for (size_t i = 0; i < JV_STATE__COUNT; i++) {
		const char *name = jv_state_name((enum jv_state)i);
		double w = 22 + text_w(name, 20, CW11) + 14;

		legend_at(&x, &y, w);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" "
			"height=\"11\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">"
			"%s</text>\n", x, y, STATES[i].fill, x + 22, y + 9,
			name);
		x += w;
	}
	x = 90;
	y += 18;
	fprintf(f, "<text x=\"10\" y=\"%.1f\" font-weight=\"bold\">marks"
		"</text>\n", y + 9);
	for (int k = K_SWITCH; k <= K_SEC; k++) {
		double w = 16 + text_w(MARKS[k].legend, 60, CW11) + 16;

		legend_at(&x, &y, w);
		symbol(f, (enum kind)k, x + 5, y + 5.5);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 16,
			y + 9, MARKS[k].legend);
		x += w;
	}
	x = 90;
	y += 18;
	if (shown)
		fprintf(f, "<text x=\"10\" y=\"%.1f\" font-weight=\"bold\">"
			"transports</text>\n", y + 9);
	for (size_t i = 0; i < shown; i++) {
		double w = 22 + text_w(v->tids[i], 24, CW11) + 14;

		legend_at(&x, &y, w);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" "
			"height=\"9\" fill=\"%s\"/><text x=\"%.1f\" "
			"y=\"%.1f\">", x, y + 1, tcolour(v, v->tids[i]), x + 22,
			y + 9);
		jv_svg_text(f, v->tids[i], 24);
		fputs("</text>\n", f);
		x += w;
	}
	if (shown < v->ntids)
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">and %zu more</text>\n",
			x, y + 9, v->ntids - shown);
	fputs("</g>\n", f);
	return y + (shown ? 18 : 0);
}

/* Tick labels above y (or below, when below) and a line at y. */
static void axis_line(FILE *f, const struct view *ax, double y, bool below)
{
	char t[32];

	fprintf(f, "<g font-family=\"DejaVu Sans, Liberation Sans, sans-serif\" "
		"font-size=\"11\" fill=\"#424242\">\n<line x1=\"%.1f\" "
		"y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#616161\"/>\n",
		PX0, y, PX1, y);
	for (long long ms = 0; ax->t0 + ms <= ax->end; ms += ax->step) {
		double x = x_of(ax, ax->t0 + ms);

		fmt_rel(t, sizeof(t), ms, ax->step);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#616161\"/><text x=\"%.1f\" y=\"%.1f\" "
			"text-anchor=\"middle\">%s s</text>\n", x, y - 4, x,
			y + 4, x, below ? y + 16 : y - 7, t);
	}
	fputs("</g>\n", f);
}

int jv_timeline_svg(FILE *f, json_t *const *events, size_t n)
{
	struct ent *e = calloc(n ? n : 1, sizeof(*e));
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	struct mark *marks = calloc(n ? n : 1, sizeof(*marks));
	char *body = NULL, *leg = NULL;
	size_t blen = 0, llen = 0, nrows = 0, ne = 0, sessions = 0;
	FILE *b = NULL;
	struct view ax = { 0 };
	bool wall = false;
	double y, top;
	int rc = -1, nodes = 0;

	if (!e || !rows || !marks)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!json_is_object(events[i]) ||
		    !str(events[i], "event_type"))
			continue;
		e[ne] = (struct ent){ events[i], (long long)json_integer_value(
			json_object_get(events[i], "ts_ms")), i, NO_EVENT };
		/* Unix milliseconds (daemons) or virtual time (sim) */
		wall |= e[ne].ts > 1000000000000LL;
		ne++;
	}
	qsort(e, ne, sizeof(*e), by_time);
	for (size_t i = 0; i < ne; i++) {
		struct row *r = row_of(rows, &nrows, e[i].ev, e[i].ts);

		if (!r)
			continue;
		if (r->tail == NO_EVENT)
			r->head = i;
		else
			e[r->tail].next = i;
		r->tail = i;
		r->last = e[i].ts;
	}
	axis_init(&ax, ne ? e[0].ts : 0, ne ? e[ne - 1].ts : 0);
	if (transports(&ax, e, ne) != 0)
		goto out;
	horizons(rows, nrows, ax.end);
	qsort(rows, nrows, sizeof(*rows), by_node);
	for (size_t i = 0; i < nrows; i++) {
		sessions += *rows[i].session != 0;
		if (!i || rows[i].rank != rows[i - 1].rank)
			nodes++;
	}

	/* the rows first, to know the height */
	b = open_memstream(&body, &blen);
	if (!b)
		goto out;
	y = 0;
	for (size_t i = 0, k = 0; i < nrows; i++) {
		bool first = !i || rows[i].rank != rows[i - 1].rank;

		k += first && i;
		fprintf(b, "<line x1=\"0\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			"stroke=\"%s\"/>\n", y, WIDTH, y,
			first ? "#9e9e9e" : "#e0e0e0");
		y += draw_row(b, &ax, e, &rows[i], marks, y, k % 2);
	}
	if (fclose(b) != 0) {
		b = NULL;
		goto out;
	}
	b = NULL;

	/* the legend, to know its height */
	b = open_memstream(&leg, &llen);
	if (!b)
		goto out;
	top = legend(b, &ax, 56) + 40;
	if (fclose(b) != 0) {
		b = NULL;
		goto out;
	}
	b = NULL;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
		"font-family=\"DejaVu Sans, Liberation Sans, sans-serif\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
		WIDTH, top + y + 40, WIDTH, top + y + 40);
	title(f, ax.t0, wall, ne, nodes, sessions,
	      ne ? e[ne - 1].ts - e[0].ts : 0);
	fwrite(leg, 1, llen, f);
	for (long long ms = 0; ax.t0 + ms <= ax.end; ms += ax.step)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#eeeeee\"/>\n",
			x_of(&ax, ax.t0 + ms), top, x_of(&ax, ax.t0 + ms),
			top + y);
	axis_line(f, &ax, top, false);
	fprintf(f, "<g transform=\"translate(0 %.1f)\">\n", top);
	fwrite(body, 1, blen, f);
	fputs("</g>\n", f);
	axis_line(f, &ax, top + y, true);
	fputs("</svg>\n", f);
	rc = fflush(f) == 0 && !ferror(f) ? 0 : -1;
out:
	if (b)
		fclose(b);
	free(body);
	free(leg);
	free(ax.tids);
	free(marks);
	free(rows);
	free(e);
	return rc;
}
