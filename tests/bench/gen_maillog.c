/*
 * gen_maillog.c - a realistic mixed mail log for the daemon benchmarks.
 *
 *   gen_maillog -n LINES [-p LOGINS_PER_MILLE] [-q SERVER_PER_MILLE] [-d]
 *               [-a FIRST] [-s SEED] -o LOG -e EXPECT FIXTURE.log...
 *
 * Most lines are Postfix and friends (the bulk of a relay's mail.log), made
 * from the templates below; SERVER_PER_MILLE of them are the POP3/IMAP
 * servers' other lines (connects, failures, logouts) and LOGINS_PER_MILLE
 * their successful logins, both taken from the real captures given as
 * FIXTURE files (tests/fixtures/logins/). Every client address in a server
 * line is replaced: logins get the next address of a sequence, the others a
 * random one, all of them documentation addresses.
 *
 * EXPECT gets one "LINENO<TAB>ADDRESS" row per login written (ADDRESS as the
 * gate map keys it: IPv4 as ::ffff:a.b.c.d). Which fixture lines are logins
 * is decided here by the servers' success texts, not by popgate's parser, so
 * a benchmark that finds EXPECT's logins checks the parser against an
 * independent count. -d makes every login address distinct (IPv6 from
 * 2001:db8:1::/48): the documentation IPv4 ranges hold only 762 hosts.
 * Otherwise IPv4 logins cycle through those 762 and IPv6 ones are distinct.
 * -a starts the IPv6 sequence at FIRST, for a set that must not meet another.
 *
 * Deterministic for a given SEED and fixture list.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TEMPLATES 4096
#define LINE_CAP 8192

/* The client addresses the captures used (tests/fixtures/logins/README.md);
 * the mapped form first, so it is replaced whole. */
static const char *const client_forms[] = { "::ffff:198.51.100.7", "198.51.100.7", "2001:db8::7" };

/*
 * Postfix & co., as a Debian 12 relay writes them to mail.log. Placeholders:
 * %A client address, %Q queue id, %P pid, %U user, %W host word, %H token,
 * %N size, %R port. Repeated entries weigh the common ones.
 */
static const char *const filler[] = {
	"postfix/smtpd[%P]: connect from unknown[%A]",
	"postfix/smtpd[%P]: connect from %W.example.com[%A]",
	"postfix/smtpd[%P]: connect from %W.example.com[%A]",
	"postfix/smtpd[%P]: %Q: client=%W.example.com[%A]",
	"postfix/smtpd[%P]: %Q: client=unknown[%A], sasl_method=PLAIN, sasl_username=%U@example.org",
	"postfix/cleanup[%P]: %Q: message-id=<%H@%W.example.com>",
	"postfix/cleanup[%P]: %Q: message-id=<%H@%W.example.com>",
	"postfix/qmgr[%P]: %Q: from=<%U@example.org>, size=%N, nrcpt=1 (queue active)",
	"postfix/qmgr[%P]: %Q: from=<%U@example.org>, size=%N, nrcpt=1 (queue active)",
	"postfix/smtp[%P]: %Q: to=<%U@example.net>, relay=mx.example.net[%A]:25, delay=0.52, "
	"delays=0.08/0.01/0.2/0.23, dsn=2.0.0, status=sent (250 2.0.0 OK  1764085201 %H - gsmtp)",
	"postfix/smtp[%P]: %Q: to=<%U@example.net>, relay=mx.example.net[%A]:25, delay=1.3, "
	"delays=0.05/0/0.61/0.64, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %Q)",
	"postfix/smtp[%P]: %Q: to=<%U@example.com>, relay=none, delay=30, delays=0.02/0/30/0, "
	"dsn=4.4.1, status=deferred (connect to mx.example.com[%A]:25: Connection timed out)",
	"postfix/local[%P]: %Q: to=<%U@relay.example.org>, relay=local, delay=0.01, "
	"delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)",
	"postfix/qmgr[%P]: %Q: removed",
	"postfix/qmgr[%P]: %Q: removed",
	"postfix/smtpd[%P]: disconnect from %W.example.com[%A] ehlo=2 starttls=1 mail=1 rcpt=1 "
	"data=1 quit=1 commands=7",
	"postfix/smtpd[%P]: disconnect from unknown[%A] ehlo=1 auth=0/1 quit=1 commands=2/3",
	"postfix/smtpd[%P]: NOQUEUE: reject: RCPT from unknown[%A]: 554 5.7.1 <%U@example.net>: "
	"Relay access denied; from=<%U@example.com> to=<%U@example.net> proto=ESMTP helo=<%W>",
	"postfix/smtpd[%P]: warning: hostname %W.example.com does not resolve to address %A: "
	"Name or service not known",
	"postfix/smtpd[%P]: warning: unknown[%A]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
	"postfix/smtpd[%P]: lost connection after AUTH from unknown[%A]",
	"postfix/smtpd[%P]: Anonymous TLS connection established from %W.example.com[%A]: TLSv1.3 "
	"with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature "
	"RSA-PSS (2048 bits) server-digest SHA256",
	"postfix/anvil[%P]: statistics: max connection rate 1/60s for (smtp:%A) at Nov 25 16:20:01",
	"postfix/pickup[%P]: %Q: uid=0 from=<root>",
	"postfix/bounce[%P]: %Q: sender non-delivery notification: %Q",
	"postfix/postscreen[%P]: CONNECT from [%A]:%R to [192.0.2.25]:25",
	"postfix/postscreen[%P]: PASS OLD [%A]:%R",
	"amavis[%P]: (%P-01) Passed CLEAN {RelayedInbound}, [%A]:%R <%U@example.com> -> "
	"<%U@example.org>, Queue-ID: %Q, Message-ID: <%H@example.com>, mail_id: %H, Hits: -0.999, "
	"size: %N, queued_as: %Q, 1234 ms",
	"opendkim[%P]: %Q: %W.example.com [%A] not internal",
	"opendkim[%P]: %Q: DKIM verification successful",
	/* Dovecot lines that are no login: the same program tag as a login. */
	"dovecot: lmtp(%U)<%P><%H>: msgid=<%H@%W.example.com>: saved mail to INBOX",
	"dovecot: imap(%U)<%P><%H>: Disconnected: Logged out in=%N out=%N deleted=0 expunged=0 "
	"trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
	"dovecot: pop3(%U)<%P><%H>: Disconnected: Logged out top=0/0, retr=1/%N, del=1/1, size=%N",
};

static const char *const users[] = { "alice", "bob", "carol", "dave", "erin", "frank",
				     "grace", "heidi", "ivan", "judy", "mallory", "oscar" };
static const char *const words[] = { "mail", "smtp", "mx1", "out", "relay", "mta", "edge",
				     "o1", "mail-wr1", "outbound" };

struct tmpl {
	char *text;
	bool v6; /* its client address is IPv6 */
};

struct pool {
	struct tmpl t[MAX_TEMPLATES];
	size_t n;
};

static uint64_t rng_state;

static uint64_t rnd(void) /* splitmix64: fast, and the same output everywhere */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned pick(size_t n) { return (unsigned)(rnd() % n); }

static void die(const char *what)
{
	fprintf(stderr, "gen_maillog: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The servers' success texts (tests/fixtures/logins/README.md). popa3d has
 * none: no line of its carries both user and address. */
static bool is_login(const char *s)
{
	static const char *const success[] = {
		"-login: Login: user=<", "-login: Info: Login: user=<",        /* Dovecot */
		" LOGIN, user=",                                                /* Courier */
		" User logged in",                                              /* Cyrus */
		"POP login by user \"",                                         /* Qpopper */
		": Login user=", ": Authenticated user=", ": Auth user=",       /* UW */
		": APOP user=", ": Admin Login user=",
	};

	for (size_t i = 0; i < sizeof(success) / sizeof(success[0]); i++)
		if (strstr(s, success[i]))
			return true;
	return false;
}

static void add(struct pool *p, const char *line)
{
	if (p->n == MAX_TEMPLATES) {
		fprintf(stderr, "gen_maillog: more than %d fixture lines\n", MAX_TEMPLATES);
		exit(1);
	}
	p->t[p->n].text = strdup(line);
	if (!p->t[p->n].text)
		die("strdup");
	p->t[p->n].v6 = strstr(line, client_forms[2]) != NULL;
	p->n++;
}

static void load_fixture(const char *path, struct pool *logins, struct pool *others)
{
	char line[LINE_CAP];
	FILE *f = fopen(path, "re");

	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (*line)
			add(is_login(line) ? logins : others, line);
	}
	fclose(f);
}

struct out {
	char buf[LINE_CAP];
	size_t len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n >= sizeof(o->buf)) {
		fprintf(stderr, "gen_maillog: line too long\n");
		exit(1);
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(o->buf) - o->len) {
		fprintf(stderr, "gen_maillog: line too long\n");
		exit(1);
	}
	o->len += (size_t)n;
}

/* The k-th IPv4 documentation host: 192.0.2/24, 198.51.100/24, 203.0.113/24. */
static void doc_v4(uint64_t k, struct in6_addr *a)
{
	static const uint8_t nets[3][3] = { { 192, 0, 2 }, { 198, 51, 100 }, { 203, 0, 113 } };

	memset(a, 0, sizeof(*a));
	a->s6_addr[10] = a->s6_addr[11] = 0xff;
	memcpy(&a->s6_addr[12], nets[k % 3], 3);
	a->s6_addr[15] = (uint8_t)(1 + (k / 3) % 254);
}

/* The k-th address of 2001:db8:SUB::/48, one /80 each: 2001:db8:SUB:HI:LO::7. */
static void doc_v6(unsigned sub, uint64_t k, struct in6_addr *a)
{
	static const uint8_t pfx[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(a, 0, sizeof(*a));
	memcpy(a->s6_addr, pfx, 4);
	a->s6_addr[5] = (uint8_t)sub;
	a->s6_addr[6] = (uint8_t)(k >> 24);
	a->s6_addr[7] = (uint8_t)(k >> 16);
	a->s6_addr[8] = (uint8_t)(k >> 8);
	a->s6_addr[9] = (uint8_t)k;
	a->s6_addr[15] = 7;
}

static bool is_v4_mapped(const struct in6_addr *a) { return IN6_IS_ADDR_V4MAPPED(a); }

/* As the server writes it: dotted quad for IPv4, else RFC 5952 text. */
static void addr_text(const struct in6_addr *a, char *buf, size_t len)
{
	if (is_v4_mapped(a))
		inet_ntop(AF_INET, &a->s6_addr[12], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

static bool addr_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
	       c == ':' || c == '.';
}

/* Copy a server line, its client address(es) replaced by a. A form counts
 * only as a whole token, never inside a longer address. */
static void put_server_line(struct out *o, const char *s, const struct in6_addr *a)
{
	char text[INET6_ADDRSTRLEN];

	addr_text(a, text, sizeof(text));
	while (*s) {
		size_t i, n = 0;

		for (i = 0; i < sizeof(client_forms) / sizeof(client_forms[0]); i++) {
			n = strlen(client_forms[i]);
			if (!strncmp(s, client_forms[i], n) && !addr_char(s[n]) &&
			    (o->len == 0 || !addr_char(o->buf[o->len - 1])))
				break;
		}
		if (i == sizeof(client_forms) / sizeof(client_forms[0])) {
			put(o, s++, 1);
			continue;
		}
		/* Courier shows IPv4 clients mapped, as its dual-stack socket sees them. */
		if (i == 0 && is_v4_mapped(a))
			put(o, "::ffff:", 7);
		put(o, text, strlen(text));
		s += n;
	}
}

/* Expand a filler template; the syslog prefix says when and where. */
static void put_filler(struct out *o, const char *t)
{
	char text[INET6_ADDRSTRLEN];
	struct in6_addr a;

	for (; *t; t++) {
		if (*t != '%') {
			put(o, t, 1);
			continue;
		}
		switch (*++t) {
		case 'A':
			/* Mostly IPv4, as on the Internet. */
			if (pick(8))
				doc_v4(rnd(), &a);
			else
				doc_v6(2, rnd() & 0xffff, &a);
			addr_text(&a, text, sizeof(text));
			put(o, text, strlen(text));
			break;
		case 'Q':
			putf(o, "%010llX", (unsigned long long)(rnd() & 0xffffffffffull));
			break;
		case 'P':
			putf(o, "%u", 1000 + pick(60000));
			break;
		case 'U':
			putf(o, "%s", users[pick(sizeof(users) / sizeof(users[0]))]);
			break;
		case 'W':
			putf(o, "%s", words[pick(sizeof(words) / sizeof(words[0]))]);
			break;
		case 'H':
			putf(o, "%016llx", (unsigned long long)rnd());
			break;
		case 'N':
			putf(o, "%u", 500 + pick(200000));
			break;
		case 'R':
			putf(o, "%u", 1024 + pick(64000));
			break;
		default:
			fprintf(stderr, "gen_maillog: bad template %%%c\n", *t);
			exit(1);
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: gen_maillog -n LINES [-p LOGINS_PER_MILLE] [-q SERVER_PER_MILLE] "
			"[-d] [-a FIRST] [-s SEED] -o LOG -e EXPECT FIXTURE.log...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct pool logins, others;
	static struct out o;
	unsigned long long n = 0, seed = 1, n_logins = 0, bytes = 0, k_v4 = 0, k_v6 = 0;
	unsigned login_pm = 30, server_pm = 50;
	const char *log_path = NULL, *expect_path = NULL;
	bool distinct = false;
	FILE *log, *expect;
	int c;

	while ((c = getopt(argc, argv, "n:p:q:da:s:o:e:")) != -1) {
		switch (c) {
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 'p': login_pm = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'q': server_pm = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'd': distinct = true; break;
		case 'a': k_v6 = strtoull(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'o': log_path = optarg; break;
		case 'e': expect_path = optarg; break;
		default: usage();
		}
	}
	if (!n || !log_path || !expect_path || optind == argc || login_pm + server_pm > 1000)
		usage();
	rng_state = seed;
	for (int i = optind; i < argc; i++)
		load_fixture(argv[i], &logins, &others);
	if (!logins.n || (server_pm && !others.n)) {
		fprintf(stderr, "gen_maillog: the fixtures hold no login or no other line\n");
		return 1;
	}
	log = fopen(log_path, "we");
	expect = fopen(expect_path, "we");
	if (!log || !expect)
		die("opening the output");
	setvbuf(log, NULL, _IOFBF, 1 << 20);
	for (unsigned long long i = 1; i <= n; i++) {
		unsigned r = pick(1000);
		struct in6_addr a;

		o.len = 0;
		if (r < login_pm) {
			const struct tmpl *t = &logins.t[pick(logins.n)];
			char text[INET6_ADDRSTRLEN];

			if (distinct || t->v6)
				doc_v6(1, k_v6++, &a);
			else
				doc_v4(k_v4++, &a);
			put_server_line(&o, t->text, &a);
			inet_ntop(AF_INET6, &a, text, sizeof(text));
			fprintf(expect, "%llu\t%s\n", i, text);
			n_logins++;
		} else if (r < login_pm + server_pm) {
			doc_v4(rnd(), &a);
			put_server_line(&o, others.t[pick(others.n)].text, &a);
		} else {
			/* A day's log: the clock moves evenly over the lines. */
			unsigned long long s = (i - 1) * 86400 / n;

			putf(&o, "Nov 25 %02llu:%02llu:%02llu relay ", s / 3600, s / 60 % 60, s % 60);
			put_filler(&o, filler[pick(sizeof(filler) / sizeof(filler[0]))]);
		}
		put(&o, "\n", 1);
		if (fwrite(o.buf, 1, o.len, log) != o.len)
			die(log_path);
		bytes += o.len;
	}
	if (fclose(log) || fclose(expect))
		die("closing the output");
	fprintf(stderr, "gen_maillog: %llu lines (%llu bytes, %.0f per line), %llu logins\n", n,
		bytes, (double)bytes / (double)n, n_logins);
	return 0;
}
