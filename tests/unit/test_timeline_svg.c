/* jvpn audit timeline --svg (cli/timeline_svg.c): on real engine output the
 * picture is well-formed XML, shows both nodes, every switch with its
 * cause, every denial and termination with its reason; hostile strings in
 * the events come out escaped and cut, never as markup. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/timeline_svg.h"
#include "tests/unit/unit.h"

#define MAXEV 256

struct evs {
	json_t *ev[MAXEV];
	size_t n;
};

static void load(struct evs *s, const char *name)
{
	const char *dir = getenv("JV_TESTDATA");
	char path[512], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit/%s", dir ? dir : "tests/data",
		 name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (set JV_TESTDATA)", path);
	while ((len = getline(&line, &cap, f)) > 0) {
		assert_true(s->n < MAXEV);
		s->ev[s->n] = json_loadb(line, (size_t)len, 0, NULL);
		assert_non_null(s->ev[s->n]);
		s->n++;
	}
	free(line);
	fclose(f);
}

static void drop(struct evs *s)
{
	for (size_t i = 0; i < s->n; i++)
		json_decref(s->ev[i]);
	s->n = 0;
}

/* The SVG of the events, NUL-terminated, to free. */
static char *render(struct evs *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(jv_timeline_svg(f, s->ev, s->n), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* ---- a small XML well-formedness check ---- */

static char why[160];

#define BAD(...)                                                            \
	do {                                                                \
		snprintf(why, sizeof(why), __VA_ARGS__);                    \
		return NULL;                                                \
	} while (0)

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':' ||
	       c == '.';
}

/* An entity or character reference at p ('&'): its length, or 0. */
static size_t reference(const char *p)
{
	static const char *const named[] = { "&amp;", "&lt;", "&gt;",
					     "&quot;", "&apos;" };
	size_t i = 2;

	for (size_t k = 0; k < 5; k++)
		if (strncmp(p, named[k], strlen(named[k])) == 0)
			return strlen(named[k]);
	if (p[1] != '#')
		return 0;
	while (p[i] >= '0' && p[i] <= '9')
		i++;
	return i > 2 && p[i] == ';' ? i + 1 : 0;
}

/* Character data from p up to the next '<' or stop: no bare '&', no raw
 * '>' (allowed, but never written raw), no control character. Returns
 * where it ends, or NULL (why says). */
static const char *chars(const char *p, char stop)
{
	while (*p && *p != '<' && *p != stop) {
		if (*p == '&') {
			size_t n = reference(p);

			if (!n)
				BAD("bare '&' at \"%.40s\"", p);
			p += n;
			continue;
		}
		if (*p == '>' || ((unsigned char)*p < 0x20 && *p != '\n' &&
				  *p != '\t'))
			BAD("raw 0x%02x at \"%.40s\"", (unsigned char)*p, p);
		p++;
	}
	return p;
}

static const char *tag_name(const char *p, size_t *len)
{
	for (*len = 0; name_char(p[*len]); (*len)++)
		;
	return p;
}

/* NULL when doc is well-formed (elements nest and close, attributes are
 * quoted, references are known, one root), else what is wrong. */
static const char *xml_error(const char *doc)
{
	const char *stack[64], *p = doc, *name;
	size_t lens[64], nlen;
	int depth = 0, roots = 0;

#undef BAD
#define BAD(...)                                                            \
	do {                                                                \
		snprintf(why, sizeof(why), __VA_ARGS__);                    \
		return why;                                                 \
	} while (0)
	if (strncmp(p, "<?xml ", 6) == 0) {
		if (!(p = strstr(p, "?>")))
			BAD("unterminated declaration");
		p += 2;
	}
	while (*p) {
		if (*p != '<') {
			const char *q = chars(p, 0);

			if (!q)
				return why;
			for (; depth == 0 && p < q; p++)
				if (*p != '\n' && *p != ' ')
					BAD("text outside the root");
			p = q;
		} else if (p[1] == '/') {        /* an end tag */
			name = tag_name(p + 2, &nlen);
			if (depth == 0 || nlen != lens[depth - 1] ||
			    strncmp(name, stack[depth - 1], nlen) != 0)
				BAD("</%.*s> closes nothing open", (int)nlen,
				    name);
			depth--;
			p = name + nlen;
			if (*p++ != '>')
				BAD("bad end tag");
		} else {                         /* a start tag */
			name = tag_name(p + 1, &nlen);
			if (!nlen)
				BAD("bad tag at \"%.40s\"", p);
			if (depth == 0 && roots++)
				BAD("a second root");
			p = name + nlen;
			for (;;) {               /* attributes */
				while (*p == ' ' || *p == '\n')
					p++;
				if (*p == '>' || (p[0] == '/' && p[1] == '>'))
					break;
				if (!name_char(*p))
					BAD("bad attribute at \"%.40s\"", p);
				while (name_char(*p))
					p++;
				if (p[0] != '=' || p[1] != '"')
					BAD("unquoted attribute at \"%.40s\"",
					    p);
				if (!(p = chars(p + 2, '"')))
					return why;
				if (*p++ != '"')
					BAD("'<' in an attribute");
			}
			if (*p == '/') {
				p += 2;
				continue;
			}
			p++;
			if (depth == 64)
				BAD("too deep");
			stack[depth] = name;
			lens[depth++] = nlen;
		}
	}
	if (depth)
		BAD("<%.*s> not closed", (int)lens[depth - 1],
		    stack[depth - 1]);
	if (!roots)
		BAD("no root");
	return NULL;
}

static void assert_well_formed(const char *doc)
{
	const char *e = xml_error(doc);

	if (e)
		fail_msg("not well-formed XML: %s", e);
}

/* The checker itself catches what it must. */
JV_TEST(checker_rejects_broken_xml)
{
	assert_null(xml_error("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/>t "
			      "&amp; &#8230;</a>\n"));
	assert_non_null(xml_error("<a><b></a></b>"));
	assert_non_null(xml_error("<a>x & y</a>"));
	assert_non_null(xml_error("<a x=\"<\"></a>"));
	assert_non_null(xml_error("<a x=1></a>"));
	assert_non_null(xml_error("<a></a><b></b>"));
	assert_non_null(xml_error("<a>"));
	assert_non_null(xml_error("<a>\x01</a>"));
	assert_non_null(xml_error(""));
}

/* ---- the picture ---- */

/* A transport death on the client, the switch on both ends (the fixture
 * is 1.1-transport-death-backup.yaml split into two daemons' logs). */
JV_TEST(switch_on_both_nodes)
{
	struct evs s = { .n = 0 };
	char *svg;


	load(&s, "split-server.jsonl");
	load(&s, "split-client.jsonl");
	svg = render(&s);
	assert_well_formed(svg);
	assert_non_null(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	assert_non_null(strstr(svg, "t0 = 0 ms virtual time"));
	/* both nodes, the client first (it spoke first, whatever the order
	 * of the files) */
	assert_non_null(strstr(svg, ">client</text>"));
	assert_non_null(strstr(svg, ">server</text>"));
	assert_true(strstr(svg, ">client</text>") < strstr(svg, ">server</text>"));
	/* the switch with its cause, on each end */
	assert_non_null(strstr(svg, ">udp-a \xe2\x86\x92 udp-b "
				    "(consecutive_drop_exceeded)</text>"));
	assert_non_null(strstr(svg, ">udp-a \xe2\x86\x92 udp-b "
				    "(peer_path_change)</text>"));
	assert_non_null(strstr(svg, ">udp-a dead (consecutive_drop_exceeded)"
				    "</text>"));
	/* the states and the transports as bands */
	assert_non_null(strstr(svg, ">ATTACHED</text>"));
	assert_non_null(strstr(svg, ">udp-b</text>"));
	/* a time axis in seconds */
	assert_non_null(strstr(svg, ">0 s</text>"));
	assert_non_null(strstr(svg, ">6 s</text>"));
	free(svg);
	drop(&s);
}

/* Denied reattaches, a denied switch, DEGRADED, a termination. */
JV_TEST(denials_and_termination)
{
	struct evs s = { .n = 0 };
	char *svg;


	load(&s, "sim-repeated-denials.jsonl");
	svg = render(&s);
	assert_well_formed(svg);
	assert_non_null(strstr(svg, ">reattach tcp-b DENIED (policy_denied)"));
	assert_non_null(strstr(svg, ">switch to tcp-b denied (cooldown_active)"));
	assert_non_null(strstr(svg, ">terminated (security_failure)</text>"));
	assert_non_null(strstr(svg, ">udp-a dead (heartbeat_timeout)</text>"));
	assert_non_null(strstr(svg, ">DEGRADED</text>"));
	assert_non_null(strstr(svg, ">TERMINATED</text>"));
	free(svg);
	drop(&s);
}

/* Two sessions one after the other: a row each, per node. */
JV_TEST(a_row_per_session)
{
	struct evs s = { .n = 0 };
	char *svg, *p;
	int rows = 0;


	load(&s, "sim-lifetime-reconnect.jsonl");
	svg = render(&s);
	assert_well_formed(svg);
	for (p = svg; (p = strstr(p, " session ")); p++)
		rows++;
	assert_int_equal(rows, 4);
	assert_non_null(strstr(svg, "4 sessions"));
	free(svg);
	drop(&s);
}

static json_t *event(long long ts, const char *type, const char *node,
		     const char *run)
{
	json_t *ev = json_pack("{sI, ss, ss, ss, ss, ss}", "ts_ms",
			       (json_int_t)ts, "event_type", type, "node_id",
			       node, "role", "client", "session_id",
			       "0123456789abcdef0123456789abcdef", "run_id",
			       run);

	assert_non_null(ev);
	return ev;
}

static void set(json_t *ev, const char *key, const char *value)
{
	assert_int_equal(json_object_set_new(ev, key, json_string(value)), 0);
}

/* Markup, quotes, control characters and endless strings in transport
 * ids, reasons and node ids come out as text, escaped and cut. */
JV_TEST(hostile_strings_escaped)
{
	const char *evil = "<script>alert(\"x\")</script>&amp;'\x01]]>";
	char big[2000], *svg;
	struct evs s = { .n = 0 };


	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s.ev[s.n] = event(1700000000000LL, "SessionCreated", "<b>node&",
			  "r1");
	set(s.ev[s.n++], "transport_id", evil);
	s.ev[s.n] = event(1700000000020LL, "SessionStateChange", "<b>node&",
			  "r1");
	set(s.ev[s.n], "previous_state", "BIRTH");
	set(s.ev[s.n], "new_state", "ATTACHED");
	set(s.ev[s.n], "reason_code", "handshake_ok");
	set(s.ev[s.n++], "transport_id", evil);
	s.ev[s.n] = event(1700000001000LL, "SessionStateChange", "<b>node&",
			  "r1");
	set(s.ev[s.n], "previous_state", "ATTACHED");
	set(s.ev[s.n], "new_state", "<VOLATILE>");
	set(s.ev[s.n++], "reason_code", "why</text><x>&");
	s.ev[s.n] = event(1700000001000LL, "TransportSwitchDenied",
			  "<b>node&", "r1");
	set(s.ev[s.n], "transport_id", big);
	set(s.ev[s.n++], "reason_code", evil);
	s.ev[s.n] = event(1700000002000LL, "TransportSwitch", "<b>node&",
			  "r1");
	set(s.ev[s.n], "previous_transport", evil);
	set(s.ev[s.n++], "new_transport", big);
	s.ev[s.n] = event(1700000003000LL, "SecurityValidationFailed",
			  "<b>node&", "r1");
	set(s.ev[s.n++], "reason_code", "\xef\xbf\xbe\x7f<bad>");
	s.ev[s.n] = event(1700000004000LL, "SessionTerminated", "<b>node&",
			  "r1");
	set(s.ev[s.n++], "reason_code", evil);
	svg = render(&s);
	assert_well_formed(svg);
	assert_null(strstr(svg, "<script"));
	assert_null(strstr(svg, "<b>"));
	assert_null(strstr(svg, "<x>"));
	assert_null(strstr(svg, "<VOLATILE>"));
	assert_null(strchr(svg, '\x01'));
	assert_null(strstr(svg, "\xef\xbf\xbe"));
	assert_non_null(strstr(svg, "&lt;script&gt;alert(&quot;x&quot;)"
				    "&lt;/script&gt;&amp;amp;&#39;?]]&gt;"));
	assert_non_null(strstr(svg, ">&lt;b&gt;node&amp;</text>"));
	assert_non_null(strstr(svg, "(why&lt;/text&gt;&lt;x&gt;&amp;)"));
	/* the long id is cut, with an ellipsis (labels at 64 characters,
	 * tooltips at 128) */
	big[128] = '\0';
	assert_null(strstr(svg, big));
	assert_non_null(strstr(svg, "AAAA\xe2\x80\xa6"));
	/* Unix time: t0 as UTC wall time in the title */
	assert_non_null(strstr(svg, "t0 = 2023-11-14 22:13:20.000 UTC"));
	free(svg);
	drop(&s);
}

/* A node that restarted: a row per run, the old run's bands end with it. */
JV_TEST(a_row_per_run)
{
	struct evs s = { .n = 0 };
	char *svg;


	s.ev[s.n] = event(0, "SessionCreated", "gw", "aaaaaaaa11");
	set(s.ev[s.n++], "transport_id", "udp-a");
	s.ev[s.n] = event(5000, "SessionCreated", "gw", "bbbbbbbb22");
	set(s.ev[s.n++], "transport_id", "udp-a");
	svg = render(&s);
	assert_well_formed(svg);
	assert_non_null(strstr(svg, ">run aaaaaaaa</text>"));
	assert_non_null(strstr(svg, ">run bbbbbbbb</text>"));
	free(svg);
	drop(&s);
}

JV_TEST(no_events)
{
	struct evs s = { .n = 0 };
	char *svg = render(&s);


	assert_well_formed(svg);
	free(svg);
}

static char *text(const char *s, size_t max, size_t *count)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*count = jv_svg_text(f, s, max);
	assert_int_equal(fclose(f), 0);
	return buf;
}

JV_TEST(text_escapes_and_cuts)
{
	static const struct {
		const char *in;
		size_t max;
		const char *out;
		size_t count;
	} cases[] = {
		{ "udp-a", 10, "udp-a", 5 },
		{ "a<b>&\"'", 10, "a&lt;b&gt;&amp;&quot;&#39;", 7 },
		{ "abcdef", 4, "abc\xe2\x80\xa6", 4 },
		{ "abcd", 4, "abcd", 4 },
		{ "caf\xc3\xa9", 4, "caf\xc3\xa9", 4 },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9", 2, "\xc3\xa9\xe2\x80\xa6", 2 },
		/* broken UTF-8, an overlong '/', a surrogate, U+FFFF */
		{ "\xff\xc3(", 10, "?" "?(", 3 },
		{ "\xc0\xaf", 10, "??", 2 },
		{ "\xed\xa0\x80", 10, "???", 3 },
		{ "\xef\xbf\xbf", 10, "?", 1 },
		{ "a\tb\nc\x1b", 10, "a?b?c?", 6 },
		{ "", 3, "", 0 },
	};


	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t count;
		char *out = text(cases[i].in, cases[i].max, &count);

		assert_string_equal(out, cases[i].out);
		assert_int_equal(count, cases[i].count);
		free(out);
	}
}
