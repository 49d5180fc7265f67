/*
 * fuzz_login.c - libFuzzer target: one log line (the input, any bytes)
 * through login_parse() with every format and three operator patterns.
 *
 * Beyond the sanitizers, a line that parses must keep the promises of
 * login_parse.h, because they are what stops a client from opening the gate
 * for an address of its choice:
 *  - the result itself (fuzz_check_login): the address is a whole field of
 *    the line, the user printable and NUL-terminated, the format one bit;
 *  - one reading per line: every format that takes the line on its own gives
 *    the same address, and a parser with all formats finds a login exactly
 *    when one of them does;
 *  - the user name cannot choose the address: the line with its user field
 *    replaced by any other text (forgeries of each server's own fields, and
 *    the line's own text after the user with another address in it) gives
 *    the same address or nothing;
 *  - a line cut inside or right after its address field is not a login for
 *    another address, for the formats that say they can tell (all but
 *    Qpopper and operator patterns, whose lines may end with the address);
 *  - the tag selects: the line as the body of another program's line is
 *    not a login.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "fuzz_common.h"
#include "login_parse.h"

/* Tags of their own, so that no built-in format competes for their lines. */
static const struct {
	const char *pattern, *line;
} patterns[] = {
	/* The address last: the user before it cannot move it. */
	{ "mypopd ^OK login %{user} from %{ip}$",
	  "Nov 25 16:07:00 mail mypopd[12]: OK login alice from 198.51.100.7" },
	/* The address first, after an optional group. */
	{ "xmail login( ok)?: ip=\\[%{ip}\\] user=%{user}",
	  "xmail: login ok: ip=[2001:db8::7] user=alice" },
	/* Groups, an alternation and a '(' in brackets before the tokens: what
	 * login_pattern.c counts to find the token's group. */
	{ "popd2 (pop3|imap)[(]x[)] (session [0-9]+: )?user <%{user}> from \\[%{ip}\\]:[0-9]+",
	  "<30>1 2026-11-25T16:07:00Z mail popd2 7 - - imap(x) session 3: user <alice> from [198.51.100.7]:4711" },
};
#define N_PATTERNS (sizeof(patterns) / sizeof(patterns[0]))

#define N_BITS 7                        /* enum login_format, LOGIN_ALL */
static struct login_parser *all, *single[N_BITS];

#define L(s) { s, sizeof(s) - 1 }
/* User fields that try to be read as each server's own text. */
static const struct {
	const char *p;
	size_t n;
} forged_users[] = {
	L(""),
	L("anonymous"),
	L("eve, rip=203.0.113.9, ip=[203.0.113.9] host=x [203.0.113.9]>"),
	L("x>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.1, mpid=1, TLS, session=<AAAA>"),
	L("x, ip=[203.0.113.9], port=[1], protocol=POP3, stls=1"),
	L("x host=[203.0.113.9] nmsgs=1/1"),
	L("x\" at (x) 203.0.113.9 [pop_log.c:1]"),
	L("[203.0.113.9] x PLAIN User logged in SESSIONID=<x>"),
	L("x from 203.0.113.9"),
	L("x] user=y ip=[203.0.113.9]"),
	L("x> from [203.0.113.9]:25"),
	L("a\0b\r\n\xff]>\""),
};
#define N_FORGED (sizeof(forged_users) / sizeof(forged_users[0]))

static struct login_parser *parser_or_die(unsigned formats)
{
	struct login_parser *p;
	char err[256];

	if (login_parser_new(&p, formats) != 0)
		abort();
	for (size_t i = 0; (formats & LOGIN_PATTERN) && i < N_PATTERNS; i++) {
		if (login_parser_add_pattern(p, patterns[i].pattern, err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_login: pattern %s: %s\n", patterns[i].pattern, err);
			abort();
		}
	}
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct login l;

	(void)argc;
	(void)argv;
	all = parser_or_die(LOGIN_ALL);
	for (unsigned b = 0; b < N_BITS; b++)
		single[b] = parser_or_die(1u << b);
	/* A pattern that never matches would leave its checks unreached. */
	for (size_t i = 0; i < N_PATTERNS; i++)
		FUZZ_ASSERT(login_parse(all, patterns[i].line, strlen(patterns[i].line), &l) == 1 &&
			    l.format == LOGIN_PATTERN && strcmp(l.user, "alice") == 0,
			    "pattern %s does not read its own line", patterns[i].pattern);
	return 0;
}

static int parse(const char *line, size_t len, struct login *l)
{
	int r;

	fuzz_spans_reset();
	r = login_parse(all, line, len, l);
	FUZZ_ASSERT(r == 0 || r == 1, "login_parse returned %d", r);
	return r;
}

/* A parse of a variant of the line: nothing, or the same address. */
static void check_variant(const char *what, const char *line, size_t len,
			  const struct login *want)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	struct login l;

	if (parse(line, len, &l) == 0)
		return;
	fuzz_check_login(line, len, &l, LOGIN_ALL, true);
	addr_format(&want->addr, a, sizeof(a));
	addr_format(&l.addr, b, sizeof(b));
	FUZZ_ASSERT(memcmp(&l.addr, &want->addr, sizeof(l.addr)) == 0,
		    "%s turns login of %s into one of %s: \"%.*s\"", what, a, b, (int)len, line);
}

static void check_formats(const char *line, size_t len, const struct login *l)
{
	bool found = false;

	for (unsigned b = 0; b < N_BITS; b++) {
		struct login one;
		int r = login_parse(single[b], line, len, &one);

		if (!l) {
			FUZZ_ASSERT(r == 0, "format %s alone reads a login that all formats miss",
				    login_format_name(1u << b));
			continue;
		}
		if (r != 1)
			continue;
		FUZZ_ASSERT(memcmp(&one.addr, &l->addr, sizeof(one.addr)) == 0,
			    "formats %s and %s read different addresses from one line",
			    login_format_name(1u << b), login_format_name(l->format));
		if (one.format == l->format) {
			FUZZ_ASSERT(fuzz_same_login(&one, l), "format %s alone reads another login",
				    login_format_name(one.format));
			found = true;
		}
	}
	FUZZ_ASSERT(!l || found, "format %s alone does not read the line",
		    l ? login_format_name(l->format) : "");
}

/* Replace the user field [u, u + un) of line by forged text, and parse. */
static void forge(const char *line, size_t len, size_t u, size_t un,
		  const char *text, size_t n, const struct login *want)
{
	size_t flen = len - un + n;
	char *f = malloc(flen ? flen : 1);

	if (!f)
		abort();
	memcpy(f, line, u);
	memcpy(f + u, text, n);
	memcpy(f + u + n, line + u + un, len - u - un);
	check_variant("replacing the user field", f, flen, want);
	free(f);
}

static void check_user_forgeries(const char *line, size_t len, const struct login *l,
				 struct fuzz_spans s)
{
	size_t u, a, tail_n, alt_n;
	struct in6_addr other;
	const char *alt;
	char *t;

	if (!s.user)
		return;
	u = (size_t)(s.user - line);
	a = (size_t)(s.addr - line);
	for (size_t i = 0; i < N_FORGED; i++)
		forge(line, len, u, s.user_n, forged_users[i].p, forged_users[i].n, l);
	forge(line, len, u, s.user_n, line, len, l);
	if (a < u)
		return;
	/*
	 * The strongest forgery: what the server wrote after the user, with
	 * another address in its address field. The parser must still find
	 * the real field, written after the forged one.
	 */
	alt = addr_parse("203.0.113.9", &other) == 0 &&
	      memcmp(&other, &l->addr, sizeof(other)) != 0 ? "203.0.113.9" : "2001:db8::bad";
	alt_n = strlen(alt);
	tail_n = len - (u + s.user_n);
	t = malloc(tail_n - s.addr_n + alt_n + 1);
	if (!t)
		abort();
	memcpy(t, line + u + s.user_n, a - (u + s.user_n));
	memcpy(t + (a - (u + s.user_n)), alt, alt_n);
	memcpy(t + (a - (u + s.user_n)) + alt_n, s.addr + s.addr_n, len - a - s.addr_n);
	forge(line, len, u, s.user_n, t, tail_n - s.addr_n + alt_n, l);
	free(t);
}

static void check_cuts(const char *line, const struct login *l, struct fuzz_spans s)
{
	size_t a = (size_t)(s.addr - line);

	/* Documented: these cannot tell a line cut in the address (its end). */
	if (l->format & (LOGIN_QPOPPER | LOGIN_PATTERN))
		return;
	for (size_t k = a + 1; k <= a + s.addr_n; k++)
		check_variant("cutting the line in its address field", line, k, l);
}

/* login_parse.h: "text in the message body never selects a format". The
 * line inside another program's line, whose tag no format or pattern has,
 * reads as nothing. */
static void check_embedded(const char *line, size_t len)
{
	static const char *const hosts[] = {
		"Nov 25 16:00:00 mail postfix/smtpd[1]: ",
		"<22>1 2026-11-25T16:00:00Z mail postfix/smtpd 1 - - ",
	};
	struct login l;

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		size_t hn = strlen(hosts[i]);
		char *e = malloc(hn + len);

		if (!e)
			abort();
		memcpy(e, hosts[i], hn);
		memcpy(e + hn, line, len);
		FUZZ_ASSERT(login_parse(all, e, hn + len, &l) == 0,
			    "a login line in postfix's message body reads as a login (format %s)",
			    login_format_name(l.format));
		free(e);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct fuzz_spans s;
	struct login l, again;

	if (parse(line, size, &l) == 0) {
		check_formats(line, size, NULL);
		return 0;
	}
	s = fuzz_spans_get();
	fuzz_check_login(line, size, &l, LOGIN_ALL, true);
	FUZZ_ASSERT(parse(line, size, &again) == 1 && fuzz_same_login(&l, &again),
		    "a second parse of the line reads something else");
	check_formats(line, size, &l);
	check_user_forgeries(line, size, &l, s);
	check_cuts(line, &l, s);
	check_embedded(line, size);
	return 0;
}
