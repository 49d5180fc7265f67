/*
 * login_parse.c - see login_parse.h. This file splits a line into program tag
 * and message (the syslog envelope) and hands the message to the server whose
 * tag it carries; the servers' own grammars live in login_<server>.c.
 */
#include "login_parse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "login_priv.h"

static const struct {
	const char *name;
	unsigned bit;
} format_names[] = {
	{ "dovecot", LOGIN_DOVECOT }, { "courier", LOGIN_COURIER },
	{ "cyrus", LOGIN_CYRUS },     { "uwimap", LOGIN_UWIMAP },
	{ "qpopper", LOGIN_QPOPPER }, { "popa3d", LOGIN_POPA3D },
	{ "pattern", LOGIN_PATTERN },
};
#define N_FORMATS (sizeof(format_names) / sizeof(format_names[0]))

/* popa3d has no entry: no line of it carries the client address. */
static const struct login_server *const servers[] = {
	&login_dovecot, &login_courier, &login_cyrus, &login_uwimap, &login_qpopper,
};
#define N_SERVERS (sizeof(servers) / sizeof(servers[0]))

struct tag_entry {
	size_t len;
	const char *name;
	const struct login_server *srv;
};

struct login_parser {
	unsigned formats;
	/* The fixed tags of the enabled servers, for the per-line lookup. */
	struct tag_entry tags[N_SERVERS * LOGIN_TAGS_MAX];
	size_t n_tags;
	uint64_t tag_lens;      /* bit n: some tag is n bytes long; most lines' are not */
	const struct login_server *matchers[N_SERVERS];  /* with tag_match() */
	size_t n_matchers;
	struct login_pattern **patterns;
	size_t n_patterns;
};

int login_format_from_name(const char *name, unsigned *bit)
{
	for (size_t i = 0; i < N_FORMATS; i++) {
		if (strcmp(name, format_names[i].name) == 0) {
			*bit = format_names[i].bit;
			return 0;
		}
	}
	return -EINVAL;
}

const char *login_format_name(unsigned bit)
{
	for (size_t i = 0; i < N_FORMATS; i++)
		if (format_names[i].bit == bit)
			return format_names[i].name;
	return NULL;
}

/* ---- spans and fields, shared with the servers' parsers ---- */

long span_rfind(struct span s, const char *needle, size_t n)
{
	if (n == 0 || s.n < n)
		return -1;
	for (size_t i = s.n - n + 1; i-- > 0;) {
		if (s.p[i] == needle[0] && memcmp(s.p + i, needle, n) == 0)
			return (long)i;
	}
	return -1;
}

bool login_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

bool login_is_addr_char(unsigned char c)
{
	return login_is_digit(c) || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F') || c == '.' || c == ':';
}

bool login_is_word_char(unsigned char c)
{
	return login_is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* Letters, digits, '-', '_', '.': what getnameinfo() returns from a resolver
 * that checks names (glibc's res_hnok); anything else is not a host name the
 * server resolved, and a line holding it is not trusted. */
bool login_is_host_char(unsigned char c)
{
	return login_is_word_char(c) || c == '.';
}

size_t span_take(struct span *s, bool (*class)(unsigned char), struct span *taken)
{
	size_t i = 0;

	while (i < s->n && class((unsigned char)s->p[i]))
		i++;
	if (taken)
		*taken = (struct span){ s->p, i };
	s->p += i;
	s->n -= i;
	return i;
}

size_t span_take_back(struct span *s, bool (*class)(unsigned char), struct span *taken)
{
	size_t i = 0;

	while (i < s->n && class((unsigned char)s->p[s->n - 1 - i]))
		i++;
	s->n -= i;
	if (taken)
		*taken = (struct span){ s->p + s->n, i };
	return i;
}

struct span span_token(struct span s)
{
	const char *sp = memchr(s.p, ' ', s.n);

	return (struct span){ s.p, sp ? (size_t)(sp - s.p) : s.n };
}

bool login_set_addr(struct login *out, struct span a)
{
	/* addr_parse_n() hands the text to inet_pton(), which would stop at a
	 * NUL and accept "192.0.2.1\0anything": allow address characters only. */
	for (size_t i = 0; i < a.n; i++)
		if (!login_is_addr_char((unsigned char)a.p[i]))
			return false;
	return addr_parse_n(a.p, a.n, &out->addr) == 0;
}

void login_set_user(struct login *out, struct span u)
{
	size_t n = u.n < LOGIN_USER_MAX - 1 ? u.n : LOGIN_USER_MAX - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u.p[i];
		out->user[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out->user[n] = '\0';
}

/* ---- the syslog envelope ---- */

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_token_char(unsigned char c)
{
	return c > ' ' && c < 0x7f;
}

static bool is_stamp_char(unsigned char c)
{
	return login_is_digit(c) || c == ':' || c == '.' || c == '+' || c == '-' ||
	       c == 'T' || c == 'Z';
}

/* "Nov 25 15:42:37 " or "Nov  5 15:42:37.123456 " (RFC 3164, some daemons
 * add a fraction). */
static bool eat_rfc3164_stamp(struct span *s)
{
	struct span t = *s;
	size_t day;

	if (t.n < 16 || !is_alpha(t.p[0]) || !is_alpha(t.p[1]) ||
	    !is_alpha(t.p[2]) || t.p[3] != ' ')
		return false;
	t.p += 4;
	t.n -= 4;
	EAT(&t, " ");
	day = span_take(&t, login_is_digit, NULL);
	if (day < 1 || day > 2 || !EAT(&t, " "))
		return false;
	if (t.n < 9 || !login_is_digit(t.p[0]) || !login_is_digit(t.p[1]) || t.p[2] != ':' ||
	    !login_is_digit(t.p[3]) || !login_is_digit(t.p[4]) || t.p[5] != ':' ||
	    !login_is_digit(t.p[6]) || !login_is_digit(t.p[7]))
		return false;
	t.p += 8;
	t.n -= 8;
	if (EAT(&t, ".") && span_take(&t, login_is_digit, NULL) == 0)
		return false;
	if (!EAT(&t, " "))
		return false;
	*s = t;
	return true;
}

/* "2026-11-25T15:42:37.123456+00:00 " (RFC 3339, rsyslog's high precision). */
static bool eat_rfc3339_stamp(struct span *s)
{
	struct span t = *s;

	if (t.n < 20 || !login_is_digit(t.p[0]) || !login_is_digit(t.p[3]) || t.p[4] != '-' ||
	    t.p[7] != '-' || t.p[10] != 'T')
		return false;
	span_take(&t, is_stamp_char, NULL);
	if (!EAT(&t, " "))
		return false;
	*s = t;
	return true;
}

/* The tag's bytes need no check of their own: a tag only ever selects a
 * parser by comparison with a known name (or, for Cyrus, a known last part). */
static bool tag_ok(struct span tag)
{
	return tag.n > 0 && tag.n <= LOGIN_TAG_MAX;
}

/* A token "tag[pid]:" or "tag:" -> the tag without its pid. The test of the
 * last byte comes first: it turns down host names and timestamps at once. */
static bool tag_token(struct span tok, struct span *tag)
{
	if (!EAT_BACK(&tok, ":"))
		return false;
	if (EAT_BACK(&tok, "]") &&
	    (span_take_back(&tok, login_is_digit, NULL) == 0 || !EAT_BACK(&tok, "[")))
		return false;
	if (!tag_ok(tok))
		return false;
	*tag = tok;
	return true;
}

/* One RFC 5424 STRUCTURED-DATA: "-" or "[id k="v" ...]..." with \-escapes
 * inside the quoted values, which may hold ']'. */
static bool eat_sd(struct span *s)
{
	if (EAT(s, "-"))
		return true;
	if (s->n == 0 || s->p[0] != '[')
		return false;
	while (s->n > 0 && s->p[0] == '[') {
		bool quoted = false, closed = false;
		size_t i;

		for (i = 1; i < s->n && !closed; i++) {
			char c = s->p[i];

			if (quoted && c == '\\')
				i++;
			else if (c == '"')
				quoted = !quoted;
			else if (!quoted && c == ']')
				closed = true;
		}
		if (!closed)
			return false;
		s->p += i;
		s->n -= i;
	}
	return true;
}

/* After "<PRI>1 ": TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]. */
static bool split_rfc5424(struct span s, struct span *tag, struct span *msg)
{
	struct span field;

	for (int i = 0; i < 5; i++) {
		if (span_take(&s, is_token_char, &field) == 0 || !EAT(&s, " "))
			return false;
		if (i == 2)
			*tag = field;
	}
	if (SPAN_IS(*tag, "-") || !tag_ok(*tag) || !eat_sd(&s))
		return false;
	*msg = s;
	return true;
}

/* The message text starts after the spaces (RFC 5424 puts one before MSG,
 * rsyslog another) and a BOM, which RFC 5424 allows before UTF-8 text. */
static void skip_to_text(struct span *msg)
{
	while (msg->n > 0 && msg->p[0] == ' ') {
		msg->p++;
		msg->n--;
	}
	EAT(msg, "\xef\xbb\xbf");
}

/*
 * Split a line into program tag (without pid) and message; false if the line
 * has no prefix we know. A timestamp may be followed by a host name (syslog)
 * or directly by the tag (Dovecot's log_path); no timestamp at all is the
 * journal form "tag[pid]: msg".
 */
static bool split_line(struct span s, struct span *tag, struct span *msg)
{
	struct span tok;
	bool stamped;

	if (EAT(&s, "<")) {
		struct span pri;

		if (span_take(&s, login_is_digit, &pri) == 0 || pri.n > 3 || !EAT(&s, ">"))
			return false;
		if (EAT(&s, "1 ")) {
			if (!split_rfc5424(s, tag, msg))
				return false;
			skip_to_text(msg);
			return true;
		}
	}
	stamped = eat_rfc3164_stamp(&s) || eat_rfc3339_stamp(&s);
	tok = span_token(s);
	if (!tag_token(tok, tag)) {
		/* Not a tag: after a timestamp, the host name. */
		if (!stamped || tok.n == 0 || tok.n == s.n)
			return false;
		s.p += tok.n + 1;
		s.n -= tok.n + 1;
		tok = span_token(s);
		if (!tag_token(tok, tag))
			return false;
	}
	*msg = (struct span){ s.p + tok.n, s.n - tok.n };
	skip_to_text(msg);
	return true;
}

/* ---- the parser ---- */

int login_parser_new(struct login_parser **out, unsigned formats)
{
	struct login_parser *p;

	if (formats == 0 || (formats & ~(unsigned)LOGIN_ALL))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->formats = formats;
	for (size_t i = 0; i < N_SERVERS; i++) {
		const struct login_server *srv = servers[i];

		if (!(formats & srv->format))
			continue;
		for (const char *const *t = srv->tags; *t; t++) {
			p->tags[p->n_tags++] = (struct tag_entry){ strlen(*t), *t, srv };
			p->tag_lens |= 1ull << strlen(*t);
		}
		if (srv->tag_match)
			p->matchers[p->n_matchers++] = srv;
	}
	*out = p;
	return 0;
}

int login_parser_add_pattern(struct login_parser *p, const char *pattern, char *err, size_t errlen)
{
	struct login_pattern **grown, *pat;
	int ret;

	ret = login_pattern_new(&pat, pattern, err, errlen);
	if (ret)
		return ret;
	grown = realloc(p->patterns, (p->n_patterns + 1) * sizeof(*grown));
	if (!grown) {
		login_pattern_free(pat);
		return -ENOMEM;
	}
	grown[p->n_patterns++] = pat;
	p->patterns = grown;
	return 0;
}

void login_parser_free(struct login_parser *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_patterns; i++)
		login_pattern_free(p->patterns[i]);
	free(p->patterns);
	free(p);
}

/* The servers whose fixed tags include tag. Two may share one (Courier's and
 * UW's "imapd"): each refuses the other's messages, so all are tried. */
static const struct login_server *try_tags(const struct login_parser *p, struct span tag,
					   struct span msg, struct login *out)
{
	if (!((p->tag_lens >> tag.n) & 1))
		return NULL;
	for (size_t i = 0; i < p->n_tags; i++) {
		const struct tag_entry *t = &p->tags[i];

		if (t->len == tag.n && t->name[0] == tag.p[0] &&
		    memcmp(t->name, tag.p, tag.n) == 0 && t->srv->parse(tag, msg, out))
			return t->srv;
	}
	return NULL;
}

int login_parse(const struct login_parser *p, const char *line, size_t len, struct login *out)
{
	const struct login_server *srv;
	struct span tag, msg;

	if (!split_line((struct span){ line, len }, &tag, &msg))
		return 0;
	srv = try_tags(p, tag, msg, out);
	for (size_t i = 0; !srv && i < p->n_matchers; i++) {
		if (p->matchers[i]->tag_match(tag) && p->matchers[i]->parse(tag, msg, out))
			srv = p->matchers[i];
	}
	if (srv) {
		out->format = srv->format;
		return 1;
	}
	if (p->formats & LOGIN_PATTERN) {
		for (size_t i = 0; i < p->n_patterns; i++) {
			if (login_pattern_match(p->patterns[i], tag, msg, out)) {
				out->format = LOGIN_PATTERN;
				return 1;
			}
		}
	}
	return 0;
}
