/*
 * test_login_parse.c - the login-line parsers: a table of lines and what each
 * must give, the captured fixtures of tests/fixtures/logins/, truncation,
 * garbage, format selection and operator patterns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "login_parse.h"
#include "tap.h"

#define FIXTURES "tests/fixtures/logins/"
/* The addresses of the capture (see the fixtures' README): the client's, and
 * the one that user names try to smuggle in. */
#define CLI4 "198.51.100.7"
#define CLI6 "2001:db8::7"
#define EVIL_ADDR "203.0.113.9"
#define EVIL "eve, rip=203.0.113.9, ip=[203.0.113.9] host=x [203.0.113.9]>"

struct want {
	const char *name;
	const char *line;
	size_t len;             /* sizeof - 1: lines may hold NUL bytes */
	const char *addr;       /* NULL: must not match */
	const char *user;
	unsigned format;
};

#define L(s) s, sizeof(s) - 1
#define NONE NULL, NULL, 0

static const struct want table[] = {
	/* ---- Dovecot (captured, 2.3.19.1; 2.4 from source) ---- */
	{ "dovecot syslog pop3 IPv4",
	  L("Nov 25 15:58:22 mail dovecot: pop3-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, mpid=55, session=<FpJ55RthfrnGM2QH>"),
	  CLI4, "alice", LOGIN_DOVECOT },
	{ "dovecot syslog imap IPv6",
	  L("Nov 25 15:58:54 mail dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=2001:db8::7, lip=2001:db8::1, mpid=85, session=<1HUo5xthsIkgAQ24AAAAAAAAAAAAAAAH>"),
	  CLI6, "alice", LOGIN_DOVECOT },
	{ "dovecot IPv4-mapped rip",
	  L("Nov 25 15:58:22 mail dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=::ffff:198.51.100.7, lip=::ffff:192.0.2.1, mpid=55, session=<FpJ55RthfrnGM2QH>"),
	  CLI4, "alice", LOGIN_DOVECOT },
	{ "dovecot TLS",
	  L("Nov 25 15:58:44 mail dovecot: pop3-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, mpid=70, TLS, session=<BIuO5hthkKXGM2QH>"),
	  CLI4, "alice", LOGIN_DOVECOT },
	{ "dovecot secured, no mpid (2.2)",
	  L("Oct  7 09:38:38 mail dovecot: imap-login: Login: user=<bob@example.org>, method=LOGIN, rip=198.51.100.7, lip=192.0.2.1, secured"),
	  CLI4, "bob@example.org", LOGIN_DOVECOT },
	{ "dovecot RFC 3339",
	  L("2026-11-25T15:58:22.123456+00:00 mail dovecot: pop3-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, mpid=55, session=<FpJ55RthfrnGM2QH>"),
	  CLI4, "alice", LOGIN_DOVECOT },
	{ "dovecot RFC 5424",
	  L("<22>1 2026-11-25T15:58:22.123456+00:00 mail dovecot - - -  pop3-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, mpid=55, session=<FpJ55RthfrnGM2QH>"),
	  CLI4, "alice", LOGIN_DOVECOT },
	{ "dovecot RFC 5424 with SD and BOM",
	  L("<22>1 2026-11-25T15:58:22.123Z mail dovecot 123 ID47 [x@1 a=\"]\\\"\"][y@2] \xef\xbb\xbfimap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  CLI4, "alice", LOGIN_DOVECOT },
	{ "dovecot log_path file",
	  L("Nov 25 15:56:41 pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, mpid=55, session=<FpJ55RthfrnGM2QH>"),
	  CLI4, "alice", LOGIN_DOVECOT },
	{ "dovecot journal form",
	  L("dovecot[812]: imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, mpid=55, TLS, session=<FpJ55RthfrnGM2QH>"),
	  CLI4, "alice", LOGIN_DOVECOT },
	{ "dovecot bare tag, PRI, pid",
	  L("<22>Nov 25 15:58:22 mail dovecot[812]: imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  CLI4, "alice", LOGIN_DOVECOT },
	{ "dovecot 2.4 TLS handshaking",
	  L("dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, mpid=9, TLS handshaking, session=<AbC+/=>"),
	  CLI4, "alice", LOGIN_DOVECOT },
	{ "dovecot captured hostile user",
	  L("Nov 25 15:58:38 mail dovecot: pop3-login: Login: user=<eve, rip=203.0.113.9, ip=[203.0.113.9] host=x [203.0.113.9]>>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, mpid=65, session=<Ngb15Rth8s/GM2QH>"),
	  CLI4, EVIL, LOGIN_DOVECOT },
	{ "dovecot user forging a whole tail",
	  L("dovecot: imap-login: Login: user=<x>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.1, TLS>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, mpid=2, session=<BBBB>"),
	  CLI4, "x>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.1, TLS", LOGIN_DOVECOT },
	{ "dovecot control bytes in user",
	  L("dovecot: imap-login: Login: user=<a\x01\xff b>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  CLI4, "a?? b", LOGIN_DOVECOT },
	{ "dovecot long user truncated",
	  L("dovecot: imap-login: Login: user=<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  CLI4, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", LOGIN_DOVECOT },
	{ "dovecot wrong password",
	  L("Nov 25 15:58:24 mail dovecot: pop3-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, session=<x>"),
	  NONE },
	{ "dovecot aborted login",
	  L("dovecot: imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, session=<x>"),
	  NONE },
	{ "dovecot unknown user (auth)",
	  L("dovecot: auth: passwd-file(nosuchuser,198.51.100.7,<x>): unknown user"),
	  NONE },
	{ "dovecot user injects the tail of a failure",
	  L("dovecot: imap-login: Disconnected (auth failed): user=<Login: user=<a>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.1>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  NONE },
	{ "dovecot post-login line",
	  L("dovecot: imap(alice)<85><1HUo5xthsIkg>: Logged out in=44 out=552"),
	  NONE },
	{ "dovecot login text from another program",
	  L("Nov 25 15:58:22 mail postfix/smtpd[9]: NOQUEUE: reject: MAIL FROM:<dovecot: imap-login: Login: user=<a>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.1>"),
	  NONE },
	{ "dovecot no lip (cut line)",
	  L("dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=2001:db8::"),
	  NONE },
	{ "dovecot TLS error text after rip",
	  L("dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, TLS: SSL_read failed, session=<x>"),
	  NONE },
	{ "dovecot unknown element after rip",
	  L("dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, user2=<203.0.113.9>"),
	  NONE },
	{ "dovecot submission-login is not POP/IMAP",
	  L("dovecot: submission-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  NONE },
	{ "dovecot NUL inside rip",
	  L("dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7\0" "203.0.113.9, lip=192.0.2.1"),
	  NONE },
	{ "dovecot NUL in user",
	  L("dovecot: imap-login: Login: user=<al\0ice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  CLI4, "al?ice", LOGIN_DOVECOT },

	/* ---- Courier (captured, courier-imap 5.0.13 / courier-pop 1.0.16) ---- */
	{ "courier pop3d IPv4-mapped",
	  L("Nov 25 15:59:40 mail pop3d: LOGIN, user=alice, ip=[::ffff:198.51.100.7], port=[40412]"),
	  CLI4, "alice", LOGIN_COURIER },
	{ "courier pop3d IPv6",
	  L("Nov 25 15:59:52 mail pop3d: LOGIN, user=alice, ip=[2001:db8::7], port=[56090]"),
	  CLI6, "alice", LOGIN_COURIER },
	{ "courier imapd IPv4 protocol",
	  L("Nov 25 16:00:09 mail imapd: LOGIN, user=alice, ip=[198.51.100.7], port=[39686], protocol=IMAP"),
	  CLI4, "alice", LOGIN_COURIER },
	{ "courier pop3d-ssl TLS",
	  L("2026-11-25T16:00:02.1+00:00 mail pop3d-ssl: LOGIN, user=alice, ip=[::ffff:198.51.100.7], port=[38648]"),
	  CLI4, "alice", LOGIN_COURIER },
	{ "courier imapd-ssl RFC 5424",
	  L("<22>1 2026-11-25T16:00:32.1+00:00 mail imapd-ssl - - -  LOGIN, user=alice, ip=[::ffff:198.51.100.7], port=[49516], protocol=IMAP"),
	  CLI4, "alice", LOGIN_COURIER },
	{ "courier stderr INFO:, proxy stls",
	  L("pop3d[77]: INFO: LOGIN, user=alice, ip=[::ffff:198.51.100.7], port=[1], protocol=POP3, stls=1"),
	  CLI4, "alice", LOGIN_COURIER },
	{ "courier old courierpop3login without port",
	  L("Nov 25 16:00:09 mail courierpop3login: LOGIN, user=alice, ip=[::ffff:198.51.100.7]"),
	  CLI4, "alice", LOGIN_COURIER },
	{ "courier hostile user",
	  L("pop3d: LOGIN, user=eve, rip=203.0.113.9, ip=[203.0.113.9] host=x [203.0.113.9]>, ip=[::ffff:198.51.100.7], port=[37872]"),
	  CLI4, EVIL, LOGIN_COURIER },
	{ "courier user forging a whole tail",
	  L("imapd: LOGIN, user=x, ip=[203.0.113.9], port=[1], protocol=IMAP, ip=[198.51.100.7], port=[2], protocol=IMAP"),
	  CLI4, "x, ip=[203.0.113.9], port=[1], protocol=IMAP", LOGIN_COURIER },
	{ "courier wrong password",
	  L("Nov 25 15:59:42 mail pop3d: LOGIN FAILED, user=alice, ip=[::ffff:198.51.100.7], port=[40414]"),
	  NONE },
	{ "courier unknown user",
	  L("Nov 25 15:59:47 mail pop3d: LOGIN FAILED, user=nosuchuser, ip=[::ffff:198.51.100.7], port=[37856]"),
	  NONE },
	{ "courier failure with hostile user",
	  L("imapd: LOGIN FAILED, user=LOGIN, user=a, ip=[203.0.113.9], ip=[::ffff:198.51.100.7], port=[36928]"),
	  NONE },
	{ "courier logout",
	  L("pop3d: LOGOUT, user=alice, ip=[::ffff:198.51.100.7], port=[40412], top=0, retr=0, rcvd=12, sent=88, time=0"),
	  NONE },
	{ "courier field after port",
	  L("pop3d: LOGIN, user=alice, ip=[::ffff:198.51.100.7], port=[1], evil=[203.0.113.9]"),
	  NONE },
	{ "courier cut inside the address",
	  L("pop3d: LOGIN, user=alice, ip=[2001:db8::"),
	  NONE },

	/* ---- Cyrus (captured, 3.6.1) ---- */
	{ "cyrus pop3 IPv4",
	  L("Nov 25 16:00:56 mail cyrus/pop3[58]: login: [198.51.100.7] alice PLAIN User logged in SESSIONID=<cyrus-1795622456-58-1-17995965958720999712>"),
	  CLI4, "alice", LOGIN_CYRUS },
	{ "cyrus imap IPv6",
	  L("Nov 25 16:01:18 mail cyrus/imap[78]: login: [2001:db8::7] alice PLAIN User logged in SESSIONID=<cyrus-1795622478-78-1-8528629456999460637>"),
	  CLI6, "alice", LOGIN_CYRUS },
	{ "cyrus host name and IPv4-mapped",
	  L("Nov 25 16:01:18 mail imap[78]: login: client.example.org [::ffff:198.51.100.7] alice plaintext User logged in"),
	  CLI4, "alice", LOGIN_CYRUS },
	{ "cyrus pop3s TLS",
	  L("2026-11-25T16:01:09.1+00:00 mail cyrus/pop3s[71]: login: [198.51.100.7] alice PLAIN+TLS User logged in SESSIONID=<cyrus-1795622468-71-1-3008434321759327780>"),
	  CLI4, "alice", LOGIN_CYRUS },
	{ "cyrus RFC 5424 (APP-NAME cut at '/')",
	  L("<21>1 2026-11-25T16:02:07.623489+00:00 mail cyrus 59 - -  login: [198.51.100.7] alice PLAIN User logged in SESSIONID=<cyrus-1795622527-59-1-12086083573597989405>"),
	  CLI4, "alice", LOGIN_CYRUS },
	{ "cyrus captured hostile user",
	  L("Nov 25 16:01:02 mail cyrus/pop3[65]: login: [198.51.100.7] eve, rip=203.0.113.9, ip=[203.0.113.9] host=x [203.0.113.9]> PLAIN User logged in SESSIONID=<cyrus-1795622462-65-1-12693102943666524895>"),
	  CLI4, EVIL, LOGIN_CYRUS },
	{ "cyrus wrong password",
	  L("Nov 25 16:00:56 mail cyrus/pop3[58]: badlogin: [198.51.100.7] PLAIN (alice) [authentication failure]"),
	  NONE },
	{ "cyrus unknown user",
	  L("Nov 25 16:01:15 mail cyrus/imap[56]: badlogin: [198.51.100.7] PLAIN (-notset-) [SASL(-13): user not found: Password verification failed]"),
	  NONE },
	{ "cyrus anonymous",
	  L("cyrus/imap[56]: login: [198.51.100.7] anonymous User logged in"),
	  NONE },
	{ "cyrus anonymous with a crafted password",
	  L("cyrus/imap[56]: login: [198.51.100.7] anonymous a@b PLAIN User logged in"),
	  NONE },
	{ "cyrus hostile host name",
	  L("cyrus/imap[56]: login: evil[203.0.113.9] [198.51.100.7] alice PLAIN User logged in"),
	  NONE },
	{ "cyrus other service",
	  L("cyrus/lmtp[56]: login: [198.51.100.7] alice PLAIN User logged in"),
	  NONE },
	{ "cyrus autocreate note",
	  L("cyrus/pop3[58]: autocreateinbox: User alice, INBOX was successfully created"),
	  NONE },

	/* ---- UW IMAP (from source) ---- */
	{ "uw imapd Login",
	  L("Nov 25 16:05:00 mail imapd[4242]: Login user=alice host=client.example.org [198.51.100.7]"),
	  CLI4, "alice", LOGIN_UWIMAP },
	{ "uw imapd Authenticated mech, IPv6",
	  L("Nov 25 16:05:00 mail imapd[4242]: Authenticated user=alice host=[2001:db8::7] mech=PLAIN"),
	  CLI6, "alice", LOGIN_UWIMAP },
	{ "uw ipop3d Login nmsgs, IPv4-mapped",
	  L("2026-11-25T16:05:00.1+00:00 mail ipop3d[4243]: Login user=alice host=[::ffff:198.51.100.7] nmsgs=3/3"),
	  CLI4, "alice", LOGIN_UWIMAP },
	{ "uw ipop3d APOP no mailbox, RFC 5424",
	  L("<22>1 2026-11-25T16:05:00.1Z mail ipop3d 4243 - - APOP user=alice host=[198.51.100.7] no mailbox"),
	  CLI4, "alice", LOGIN_UWIMAP },
	{ "uw hostile user",
	  L("imapd[1]: Login user=x host=[203.0.113.9] host=[198.51.100.7]"),
	  CLI4, "x host=[203.0.113.9]", LOGIN_UWIMAP },
	{ "uw wrong password",
	  L("imapd[4242]: Login failed user=alice auth=alice host=[198.51.100.7]"),
	  NONE },
	{ "uw ipop3d failure",
	  L("ipop3d[4243]: Login failure user=alice host=[198.51.100.7]"),
	  NONE },
	{ "uw host cut at 80",
	  L("imapd[1]: Login user=alice host=a-very-long-host-name.that-fills-the-field.example.org [198.51.100."),
	  NONE },
	{ "uw logout",
	  L("imapd[1]: Logout user=alice host=[198.51.100.7]"),
	  NONE },

	/* ---- Qpopper (from source) ---- */
	{ "qpopper login",
	  L("Nov 25 16:06:00 mail qpopper[7597]: (v4.1.0) POP login by user \"alice\" at (client.example.org) 198.51.100.7"),
	  CLI4, "alice", LOGIN_QPOPPER },
	{ "qpopper with source position, IPv6",
	  L("Nov 25 16:06:00 mail in.qpopper[7597]: (v4.0.9) POP login by user \"alice\" at (2001:db8::7) 2001:db8::7 [pop_log.c:244]"),
	  CLI6, "alice", LOGIN_QPOPPER },
	{ "qpopper hostile user",
	  L("popper[1]: (v4.1.0) POP login by user \"x\" at (h) 203.0.113.9\" at (client.example.org) 198.51.100.7"),
	  CLI4, "x\" at (h) 203.0.113.9", LOGIN_QPOPPER },
	{ "qpopper failure",
	  L("qpopper[7597]: alice at client.example.org (198.51.100.7): -ERR [AUTH] Password supplied for \"alice\" is incorrect."),
	  NONE },
	{ "qpopper classic injection through postfix",
	  L("Nov 25 16:06:00 mail postfix/smtpd[9]: NOQUEUE: reject: MAIL from:<\"POP login by user \"admin\" at (198.51.100.66) 198.51.100.66@example.org>"),
	  NONE },

	/* ---- popa3d (captured, 1.0.3): the address is never on the line ---- */
	{ "popa3d success has no address",
	  L("Nov 25 16:02:38 mail popa3d[64]: Authentication passed for alice"),
	  NONE },
	{ "popa3d session line is not a login",
	  L("Nov 25 16:02:38 mail popa3d[64]: Session from 198.51.100.7"),
	  NONE },

	/* ---- envelopes that are not ours ---- */
	{ "empty", L(""), NONE },
	{ "only a tag", L("dovecot:"), NONE },
	{ "tag without the colon's space",
	  L("dovecot:imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  NONE },
	{ "host but no timestamp",
	  L("mail dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  NONE },
	{ "RFC 5424 nil APP-NAME",
	  L("<22>1 2026-11-25T15:58:22Z mail - - - - imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  NONE },
	{ "RFC 5424 unclosed SD",
	  L("<22>1 2026-11-25T15:58:22Z mail dovecot - - [a b=\"]\" imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1"),
	  NONE },
	{ "postfix line", L("Nov 25 15:58:22 mail postfix/smtpd[9]: connect from unknown[198.51.100.7]"), NONE },
	{ "kernel line", L("Nov 25 15:58:22 mail kernel: [  1.0] rip=198.51.100.7"), NONE },
};

static struct login_parser *parser_or_die(unsigned formats)
{
	struct login_parser *p = NULL;

	if (login_parser_new(&p, formats) != 0) {
		printf("Bail out! login_parser_new(%#x)\n", formats);
		exit(1);
	}
	return p;
}

static bool same_addr(const struct login *l, const char *want)
{
	struct in6_addr a;

	return addr_parse(want, &a) == 0 && memcmp(&a, &l->addr, sizeof(a)) == 0;
}

static void check_table(void)
{
	struct login_parser *all = parser_or_die(LOGIN_ALL);

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct want *w = &table[i];
		struct login l;
		int r = login_parse(all, w->line, w->len, &l);
		char got[ADDR_STRLEN] = "-";

		if (r == 1)
			addr_format(&l.addr, got, sizeof(got));
		if (!w->addr) {
			CHECK(r == 0, "%s: no login (got %s)", w->name, got);
			continue;
		}
		CHECK(r == 1 && same_addr(&l, w->addr) && strcmp(l.user, w->user) == 0 &&
		      l.format == w->format,
		      "%s: %s user '%s' (got r=%d %s '%s' format %#x)", w->name, w->addr,
		      w->user, r, got, r == 1 ? l.user : "", r == 1 ? l.format : 0);
	}
	login_parser_free(all);
}

/* A format that is not enabled never matches, and the others still do. */
static void check_selection(void)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct want *w = &table[i];
		struct login_parser *only, *others;
		struct login l;

		if (!w->addr)
			continue;
		only = parser_or_die(w->format);
		others = parser_or_die(LOGIN_ALL & ~w->format);
		CHECK(login_parse(only, w->line, w->len, &l) == 1 &&
		      login_parse(others, w->line, w->len, &l) == 0,
		      "%s: only format %s matches", w->name, login_format_name(w->format));
		login_parser_free(only);
		login_parser_free(others);
	}
}

/*
 * Every cut of a login line either matches nothing or gives the same
 * address: a line cut inside its address must not name another host.
 * Left out, as login_parse.h says: Qpopper, which ends its line with the
 * address and no mark of its end; and lines whose user name forges a whole
 * line, which a cut right after the forgery turns into a well-formed one. A
 * line is never cut that way in practice: the follower drops over-long lines
 * rather than cut them, and the servers cap the user name (80 characters for
 * Dovecot and UW, an existing account for Courier) far below any syslog limit.
 */
static void check_truncation(void)
{
	struct login_parser *all = parser_or_die(LOGIN_ALL);

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct want *w = &table[i];
		size_t bad = 0;

		if (!w->addr || w->format == LOGIN_QPOPPER ||
		    memmem(w->line, w->len, EVIL_ADDR, strlen(EVIL_ADDR)))
			continue;
		for (size_t n = 0; n < w->len; n++) {
			struct login l;

			if (login_parse(all, w->line, n, &l) == 1 && !same_addr(&l, w->addr))
				bad++;
		}
		CHECK(bad == 0, "%s: no cut gives another address (%zu did)", w->name, bad);
	}
	login_parser_free(all);
}

static unsigned long long rng = 0x9e3779b97f4a7c15ull;

static unsigned char next_byte(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned char)rng;
}

static void check_garbage(void)
{
	struct login_parser *all = parser_or_die(LOGIN_ALL);
	static const char *const heads[] = {
		"", "dovecot: imap-login: Login: user=<", "pop3d: LOGIN, user=",
		"cyrus/imap[1]: login: [", "imapd[1]: Login user=",
		"qpopper[1]: POP login by user \"",
	};
	char line[1000];
	size_t matched = 0;

	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		for (int round = 0; round < 2000; round++) {
			size_t n = strlen(heads[h]);
			struct login l;

			memcpy(line, heads[h], n);
			for (size_t i = n; i < sizeof(line); i++)
				line[i] = (char)next_byte();
			matched += login_parse(all, line, sizeof(line), &l);
		}
	}
	CHECK(matched == 0, "12000 lines of 1000 random bytes: no login (%zu)", matched);
	memset(line, 'A', sizeof(line));
	CHECK(login_parse(all, line, sizeof(line), &(struct login){ 0 }) == 0,
	      "1000 x 'A': no login");
	memset(line, ' ', sizeof(line));
	CHECK(login_parse(all, line, sizeof(line), &(struct login){ 0 }) == 0,
	      "1000 spaces: no login");
	memset(line, '\0', sizeof(line));
	CHECK(login_parse(all, line, sizeof(line), &(struct login){ 0 }) == 0,
	      "1000 NUL bytes: no login");
	login_parser_free(all);
}

/*
 * The captured fixtures: every line that is a login gives the client's
 * address (never the one a user name smuggles in) and a known user, and the
 * number of logins is the number of successful logins the capture made.
 */
static const struct {
	const char *file;
	unsigned format;
	size_t logins;
} fixtures[] = {
	{ "dovecot-trad.log", LOGIN_DOVECOT, 11 },
	{ "dovecot-rfc3339.log", LOGIN_DOVECOT, 11 },
	{ "dovecot-rfc5424.log", LOGIN_DOVECOT, 11 },
	{ "dovecot-logpath.log", LOGIN_DOVECOT, 11 },
	{ "courier-trad.log", LOGIN_COURIER, 8 },
	{ "courier-rfc3339.log", LOGIN_COURIER, 8 },
	{ "courier-rfc5424.log", LOGIN_COURIER, 8 },
	{ "cyrus-trad.log", LOGIN_CYRUS, 10 },
	{ "cyrus-rfc3339.log", LOGIN_CYRUS, 10 },
	{ "cyrus-rfc5424.log", LOGIN_CYRUS, 10 },
	{ "popa3d-trad.log", LOGIN_POPA3D, 0 },
	{ "popa3d-rfc3339.log", LOGIN_POPA3D, 0 },
	{ "popa3d-rfc5424.log", LOGIN_POPA3D, 0 },
	{ "uwimap-from-source.log", LOGIN_UWIMAP, 6 },
	{ "qpopper-from-source.log", LOGIN_QPOPPER, 3 },
};

static void check_fixture(struct login_parser *all, const char *file, unsigned format,
			  size_t want)
{
	char path[256], *line = NULL;
	size_t cap = 0, logins = 0, wrong = 0, lines = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), FIXTURES "%s", file);
	f = fopen(path, "r");
	if (!f) {
		CHECK(0, "%s: open: %s (run from the top of the tree)", path, strerror(errno));
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct login l;

		if (line[n - 1] == '\n')
			n--;
		lines++;
		if (login_parse(all, line, (size_t)n, &l) != 1)
			continue;
		logins++;
		if (l.format != format || !(same_addr(&l, CLI4) || same_addr(&l, CLI6)) ||
		    (strcmp(l.user, "alice") != 0 && strcmp(l.user, EVIL) != 0)) {
			printf("# unexpected: %.*s\n", (int)n, line);
			wrong++;
		}
	}
	free(line);
	fclose(f);
	CHECK(lines > 0 && logins == want && wrong == 0,
	      "%s: %zu lines, %zu logins (want %zu), %zu wrong", file, lines, logins,
	      want, wrong);
}

static void check_fixtures(void)
{
	struct login_parser *all = parser_or_die(LOGIN_ALL);

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		check_fixture(all, fixtures[i].file, fixtures[i].format, fixtures[i].logins);
	login_parser_free(all);
}

static void check_names(void)
{
	static const char *const names[] = {
		"dovecot", "courier", "cyrus", "uwimap", "qpopper", "popa3d", "pattern",
	};
	unsigned bit, seen = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		bit = 0;
		CHECK(login_format_from_name(names[i], &bit) == 0 && bit == 1u << i &&
		      strcmp(login_format_name(bit), names[i]) == 0,
		      "format name %s <-> bit %#x", names[i], bit);
		seen |= bit;
	}
	CHECK(seen == LOGIN_ALL, "the names cover LOGIN_ALL");
	CHECK(login_format_from_name("Dovecot", &bit) == -EINVAL &&
	      login_format_from_name("", &bit) == -EINVAL &&
	      login_format_from_name("uw-imap", &bit) == -EINVAL,
	      "unknown format names: -EINVAL");
	CHECK(login_format_name(0) == NULL && login_format_name(LOGIN_ALL) == NULL &&
	      login_format_name(1u << 7) == NULL, "no name for 0, several bits, unknown bit");

	struct login_parser *p = NULL;

	CHECK(login_parser_new(&p, 0) == -EINVAL && login_parser_new(&p, 1u << 7) == -EINVAL,
	      "login_parser_new refuses no format and unknown bits");
}

static void check_patterns(void)
{
	static const struct {
		const char *pattern, *line, *addr, *user;
	} good[] = {
		{ "mypopd ^OK login %{user} from %{ip}$",
		  "Nov 25 16:07:00 mail mypopd[12]: OK login alice from 198.51.100.7", CLI4, "alice" },
		{ "mypopd OK login (user )?%{user} from \\[%{ip}\\]( TLS)?",
		  "mypopd: OK login user x from [1.2.3.4] from [2001:db8::7] TLS", CLI6,
		  "x from [1.2.3.4]" },
		{ "my/pop (a|b) [(]%{ip}[)]",
		  "<22>1 2026-11-25T16:07:00Z mail my/pop 1 - - b (198.51.100.7)", CLI4, "" },
		{ "mypopd [[:alpha:]]+ ok ip=%{ip} user=%{user}",
		  "mypopd[1]: login ok ip=198.51.100.7 user=bob", CLI4, "bob" },
		{ "mypopd (OK|ok) \\(%{user}\\) %{ip}",
		  "mypopd: ok (alice) ::ffff:198.51.100.7", CLI4, "alice" },
		{ "mypop2 OK (%{user}) %{ip}",
		  "mypop2: OK (alice) ::ffff:198.51.100.7", CLI4, "(alice)" },
	};
	static const struct {
		const char *pattern, *line;
		size_t len;
	} no_match[] = {
		/* the tag comes from the prefix, not the body */
		{ "mypopd OK %{ip}", L("postfix/smtpd[1]: mypopd: OK 203.0.113.9") },
		/* the whole message must match */
		{ "mypopd OK %{ip}", L("mypopd: OK 198.51.100.7 and more") },
		{ "mypopd OK %{ip}", L("mypopd: NOT OK 198.51.100.7") },
		/* the address must parse, and NUL bytes are refused */
		{ "mypopd OK %{ip}", L("mypopd: OK 198.51.100") },
		{ "mypopd OK %{ip}.*", L("mypopd: OK 198.51.100.7\0x") },
	};
	static const struct {
		const char *pattern, *why;
	} bad[] = {
		{ "mypopd OK from", "no %{ip}" },
		{ "mypopd %{ip} %{ip}", "two %{ip}" },
		{ "mypopd %{user} %{user} %{ip}", "two %{user}" },
		{ "^OK %{ip}$", "no tag before the regex" },
		{ "%{ip}", "only a token" },
		{ "mypopd", "no regex" },
		{ "mypopd   ", "empty regex" },
		{ "my:popd OK %{ip}", "':' in the tag" },
		{ "mypopd OK (%{ip}", "unbalanced (" },
		{ "mypopd OK [%{ip}", "unclosed [" },
		{ "mypopd ((((((((((((((((a)))))))))))))))) %{ip}", "too many groups" },
		{ "mypopd OK)|(from %{ip}", "')' closing the anchors (tail match)" },
		{ "mypopd a++++++++++++++++++++++ %{ip}", "stacked repetition (regcomp blow-up)" },
		{ "mypopd a{2}{2}{2}{2} %{ip}", "stacked counted repetition" },
	};
	struct login_parser *p = parser_or_die(LOGIN_PATTERN);
	struct login_parser *off = parser_or_die(LOGIN_DOVECOT);
	char err[128];
	struct login l;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = login_parser_add_pattern(p, good[i].pattern, err, sizeof(err));

		CHECK(r == 0, "pattern accepted: %s (%s)", good[i].pattern, r ? err : "");
		CHECK(login_parser_add_pattern(off, good[i].pattern, err, sizeof(err)) == 0,
		      "pattern added to a parser without LOGIN_PATTERN");
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = login_parse(p, good[i].line, strlen(good[i].line), &l);

		CHECK(r == 1 && same_addr(&l, good[i].addr) && strcmp(l.user, good[i].user) == 0 &&
		      l.format == LOGIN_PATTERN,
		      "pattern line: %s -> %s '%s' (got %d '%s')", good[i].line, good[i].addr,
		      good[i].user, r, r == 1 ? l.user : "");
		CHECK(login_parse(off, good[i].line, strlen(good[i].line), &l) == 0,
		      "patterns unused without LOGIN_PATTERN: %s", good[i].line);
	}
	for (size_t i = 0; i < sizeof(no_match) / sizeof(no_match[0]); i++) {
		struct login_parser *q = parser_or_die(LOGIN_PATTERN);

		CHECK(login_parser_add_pattern(q, no_match[i].pattern, err, sizeof(err)) == 0 &&
		      login_parse(q, no_match[i].line, no_match[i].len, &l) == 0,
		      "pattern %s does not match: %s", no_match[i].pattern, no_match[i].line);
		login_parser_free(q);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(login_parser_add_pattern(p, bad[i].pattern, err, sizeof(err)) == -EINVAL &&
		      err[0] != '\0' && !strchr(err, '\n'),
		      "bad pattern refused (%s): %s -> %s", bad[i].why, bad[i].pattern, err);
	}
	login_parser_free(p);
	login_parser_free(off);
}

int main(void)
{
	check_table();
	check_selection();
	check_truncation();
	check_garbage();
	check_fixtures();
	check_names();
	check_patterns();
	return tap_done();
}
