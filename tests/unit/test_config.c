/*
 * test_config.c - popgate.conf parsing: each case is a file written to a
 * temporary directory and loaded with stderr captured, so that the exact
 * "FILE:LINE: problem" lines are checked along with the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

#define SOURCE_LINE "log = /var/log/popgate-test.log\n"

static char dir[] = "/tmp/test_config.XXXXXX";
static char conf_path[PATH_MAX], err_path[PATH_MAX];
static char errors[64 * 1024];  /* what the last load printed */

/* config_load() with its diagnostics (msg() writes to fd 2) kept in errors. */
static int load_capture(const char *path, struct config *c)
{
	int saved = dup(2), fd, r;
	ssize_t n;

	fd = open(err_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (saved < 0 || fd < 0)
		abort();
	fflush(stderr);
	dup2(fd, 2);
	r = config_load(path, c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, errors, sizeof(errors) - 1, 0);
	errors[n > 0 ? n : 0] = '\0';
	close(fd);
	return r;
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f))
		abort();
}

static int load_text(const char *text, size_t len, struct config *c)
{
	write_file(conf_path, text, len);
	return load_capture(conf_path, c);
}

/* "FILE" in a template stands for the path of the file under test. */
static void expand(const char *tmpl, char *out, size_t size)
{
	size_t n = 0;

	while (*tmpl && n + PATH_MAX + 1 < size) {
		if (!strncmp(tmpl, "FILE", 4)) {
			n += (size_t)snprintf(out + n, size - n, "%s", conf_path);
			tmpl += 4;
		} else {
			out[n++] = *tmpl++;
		}
	}
	out[n] = '\0';
}

static char *dump(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	config_print(c, f);
	fclose(f);
	return buf;
}

/* Every line of want is a whole line of text. */
static bool has_lines(const char *text, const char *want)
{
	char line[PATH_MAX + 64];

	while (*want) {
		size_t n = strcspn(want, "\n");

		snprintf(line, sizeof(line), "\n%.*s\n", (int)n, want);
		if (strncmp(text, line + 1, n + 1) && !strstr(text, line))
			return false;
		want += n + (want[n] == '\n');
	}
	return true;
}

struct tcase {
	const char *name;
	const char *text;
	const char *want; /* good: lines config_print() shows; bad: all of stderr */
	bool bad;
	bool bare;        /* no source line appended: the case is about sources */
	size_t len;       /* text length when it holds NUL bytes, else 0 */
};

#define GOOD(name, text, want) { name, text, want, false, false, 0 }
#define GOOD_BARE(name, text, want) { name, text, want, false, true, 0 }
#define BAD(name, text, want) { name, text, want, true, false, 0 }
#define BAD_BARE(name, text, want) { name, text, want, true, true, 0 }
/* text is a string literal holding NUL bytes: its length is what sizeof says. */
#define BAD_NUL(name, text, want) { name, text, want, true, false, sizeof(text) - 1 }

static const struct tcase cases[] = {
	/* Syntax: comments, blanks, spacing, quoting. */
	GOOD("comments and blank lines", "# c\n\n   \n\t# indented\nwindow = 5m # five\n",
	  "window = 5m"),
	GOOD("no spaces around =", "window=5m\n", "window = 5m"),
	GOOD("indented key, tabs", "\t  window\t=\t5m\t\n", "window = 5m"),
	GOOD("CRLF line ends", "window = 5m\r\nports = 25\r\n", "window = 5m\nports = 25"),
	GOOD_BARE("last line without newline", "stdin = yes", "stdin = yes"),
	GOOD("# glued to a value is not a comment", "pattern = p a#b%{ip}\n", "pattern = p a#b%{ip}  # FILE:1"),
	BAD("# alone after = is a comment", "window = # nothing\n", "FILE:1: window: no value\n"),
	GOOD("quoted value", "window = \"5m\"\n", "window = 5m"),
	GOOD("quoted: # and spaces kept", "pattern = \"p a # b %{ip} \"  # comment\n",
	  "pattern = \"p a # b %{ip} \"  # FILE:1"),
	GOOD("quoted: \\\" and \\\\ escapes, other \\ kept", "pattern = \"p q\\\"b\\\\s\\d%{ip}\"\n",
	  "pattern = p q\"b\\s\\d%{ip}  # FILE:1"),
	GOOD("quoted: comment right after the quote", "window = \"5m\"# c\n", "window = 5m"),
	BAD("quoted: empty", "window = \"\"\n", "FILE:1: window: no value\n"),
	BAD("quoted: no closing quote", "pattern = \"abc\n",
	  "FILE:1: pattern: the quoted value has no closing quote\n"),
	BAD("quoted: text after the quote", "pattern = \"abc\" def\n",
	  "FILE:1: pattern: text after the closing quote: def\n"),
	BAD("missing =", "window 90m\n",
	  "FILE:1: \"window 90m\": missing \"=\" (lines are key = value)\n"),
	BAD("missing key", " = 90m\n", "FILE:1: missing key before \"=\"\n"),
	BAD("unknown key", "windows = 90m\n", "FILE:1: unknown key \"windows\"\n"),
	BAD("keys are case-sensitive", "Window = 90m\n", "FILE:1: unknown key \"Window\"\n"),
	BAD("empty value", "window =\n", "FILE:1: window: no value\n"),
	BAD("non-repeatable key repeated", "window = 1m\n\nwindow = 2m\n",
	  "FILE:3: window: already set on line 1\n"),
	BAD_NUL("NUL byte", "window = 5m\0junk\nfoo\n",
	  "FILE:1: line contains a NUL byte\nFILE:2: \"foo\": missing \"=\" (lines are key = value)\n"),

	/* Sources: at least one is required. */
	BAD_BARE("empty file", "", "FILE:0: no source of login lines: set log, journal or stdin = yes\n"),
	BAD_BARE("only comments", "# nothing\n\n",
	  "FILE:0: no source of login lines: set log, journal or stdin = yes\n"),
	BAD_BARE("stdin = no is no source", "stdin = no\n",
	  "FILE:0: no source of login lines: set log, journal or stdin = yes\n"),
	BAD_BARE("a bad source line is not also 'no source'", "stdin = maybe\n",
	  "FILE:1: stdin: \"maybe\" is neither yes nor no\n"),
	GOOD_BARE("stdin = yes", "stdin = yes\n", "stdin = yes"),
	GOOD_BARE("log, repeated", "log = /var/log/mail.log\nlog = /var/log/dovecot.log\n",
	  "log = /var/log/mail.log\nlog = /var/log/dovecot.log\n# journal: not read\nstdin = no"),
	BAD("log relative", "log = mail.log\n", "FILE:1: log: \"mail.log\" is not an absolute path\n"),
	BAD("log twice", "log = /a\nlog = /a\n", "FILE:2: log: /a is already listed\n"),
	GOOD_BARE("journal unit", "journal = dovecot.service\n", "journal = dovecot.service"),
	GOOD_BARE("journal unit gets .service", "journal = courier-pop\n", "journal = courier-pop.service"),
	GOOD_BARE("journal template instance", "journal = dovecot@x.service\n",
	  "journal = dovecot@x.service"),
	GOOD_BARE("journal all", "journal = all\n", "journal = all\n# log: none"),
	BAD_BARE("journal bad unit", "journal = dove cot\n",
	  "FILE:1: journal: \"dove cot\" is neither a unit name (e.g. dovecot.service) nor all\n"),
	BAD_BARE("journal twice", "journal = all\njournal = dovecot\n",
	  "FILE:2: journal: already set on line 1\n"),
	GOOD_BARE("all three sources", "log = /l\njournal = all\nstdin = yes\n",
	  "log = /l\njournal = all\nstdin = yes"),

	/* interface */
	GOOD("interface, every mode", "interface = eth0\ninterface = ens3 native\n"
	  "interface = veth0   generic\ninterface = lo tc\ninterface = br0 auto\n",
	  "interface = eth0 auto\ninterface = ens3 native\ninterface = veth0 generic\n"
	  "interface = lo tc\ninterface = br0 auto"),
	GOOD("interface 15 characters", "interface = abcdefghijklmno\n",
	  "interface = abcdefghijklmno auto"),
	BAD("interface 16 characters", "interface = abcdefghijklmnop\n",
	  "FILE:1: interface: \"abcdefghijklmnop\" is not an interface name (1 to 15 characters, no \"/\", \":\" or spaces)\n"),
	BAD("interface with /", "interface = a/b\n",
	  "FILE:1: interface: \"a/b\" is not an interface name (1 to 15 characters, no \"/\", \":\" or spaces)\n"),
	BAD("interface bad mode", "interface = eth0 turbo\n",
	  "FILE:1: interface: \"turbo\" is not an attach mode (auto, native, generic or tc)\n"),
	BAD("interface extra word", "interface = eth0 native x\n",
	  "FILE:1: interface: \"native x\" is not an attach mode (auto, native, generic or tc)\n"),
	BAD("interface twice", "interface = eth0\ninterface = eth0 tc\n",
	  "FILE:2: interface: eth0 is already listed\n"),

	/* ports */
	GOOD("ports default", "", "ports = 25, 465, 2525"),
	GOOD("ports commas and spaces", "ports = 25,465 2525 ,  587\n", "ports = 25, 465, 2525, 587"),
	GOOD("ports 1 and 65535", "ports = 1 65535\n", "ports = 1, 65535"),
	GOOD("ports 16", "ports = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
	  "ports = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16"),
	BAD("ports 17", "ports = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
	  "FILE:1: ports: more than 16 ports\n"),
	BAD("ports 0", "ports = 25, 0\n", "FILE:1: ports: \"0\" is not a port (1..65535)\n"),
	BAD("ports 65536", "ports = 65536\n", "FILE:1: ports: \"65536\" is not a port (1..65535)\n"),
	BAD("ports junk", "ports = 25 smtp\n", "FILE:1: ports: \"smtp\" is not a port (1..65535)\n"),
	BAD("ports sign", "ports = +25\n", "FILE:1: ports: \"+25\" is not a port (1..65535)\n"),
	BAD("ports duplicate", "ports = 25, 465, 25\n", "FILE:1: ports: 25 is listed twice\n"),
	BAD("ports none", "ports = , ,\n", "FILE:1: ports: no port given\n"),

	/* window and sweep_interval */
	GOOD("window default", "", "window = 1h30m"),
	GOOD("window 1h30m", "window = 1h30m\n", "window = 1h30m"),
	GOOD("window seconds", "window = 5400\n", "window = 1h30m"),
	GOOD("window 2d", "window = 2d\n", "window = 2d"),
	BAD("window not a duration", "window = 90x\n",
	  "FILE:1: window: \"90x\" is not a duration (e.g. 90m, 1h30m, 5400s)\n"),
	BAD("window zero", "window = 0m\n", "FILE:1: window: \"0m\" is zero (e.g. 90m, 1h30m, 5400s)\n"),
	BAD("window too long", "window = 400d\n", "FILE:1: window: \"400d\" is longer than 366d\n"),
	BAD("window units out of order", "window = 30m1h\n",
	  "FILE:1: window: \"30m1h\" is not a duration (e.g. 90m, 1h30m, 5400s)\n"),
	GOOD("sweep_interval default", "", "sweep_interval = 1m"),
	GOOD("sweep_interval 30s", "sweep_interval = 30s\n", "sweep_interval = 30s"),
	BAD("sweep_interval bad", "sweep_interval = soon\n",
	  "FILE:1: sweep_interval: \"soon\" is not a duration (e.g. 90m, 1h30m, 5400s)\n"),
	BAD("sweep_interval zero", "sweep_interval = 0\n",
	  "FILE:1: sweep_interval: \"0\" is zero (e.g. 90m, 1h30m, 5400s)\n"),

	/* trust */
	GOOD("trust v4, v6, host", "trust = 192.0.2.0/24\ntrust = 2001:db8::/32\ntrust = 198.51.100.7\n",
	  "trust = 192.0.2.0/24\ntrust = 2001:db8::/32\ntrust = 198.51.100.7/32"),
	GOOD("trust v4-mapped is v4", "trust = ::ffff:192.0.2.0/120\n", "trust = 192.0.2.0/24"),
	BAD("trust host bits v4", "trust = 192.0.2.1/24\n",
	  "FILE:1: trust: \"192.0.2.1/24\" has bits set after the prefix length (did you mean 192.0.2.0/24?)\n"),
	BAD("trust host bits v6", "trust = 2001:db8::1/32\n",
	  "FILE:1: trust: \"2001:db8::1/32\" has bits set after the prefix length (did you mean 2001:db8::/32?)\n"),
	BAD("trust not an address", "trust = mail.example.org\n",
	  "FILE:1: trust: \"mail.example.org\" is not an address or prefix (e.g. 192.0.2.0/24, 2001:db8::/32)\n"),
	BAD("trust bad length", "trust = 192.0.2.0/33\n",
	  "FILE:1: trust: \"192.0.2.0/33\" is not an address or prefix (e.g. 192.0.2.0/24, 2001:db8::/32)\n"),
	BAD("trust twice", "trust = 192.0.2.0/24\ntrust = ::ffff:192.0.2.0/120\n",
	  "FILE:2: trust: 192.0.2.0/24 is already listed\n"),

	/* format and pattern */
	GOOD("format default", "", "format = all"),
	GOOD("format list", "format = courier, dovecot\n", "format = dovecot, courier"),
	GOOD("format every name", "format = dovecot courier cyrus uwimap qpopper popa3d\n",
	  "format = dovecot, courier, cyrus, uwimap, qpopper, popa3d"),
	GOOD("format all", "format = all\n", "format = all"),
	BAD("format unknown", "format = dovecot, exim\n",
	  "FILE:1: format: \"exim\" is not a format (dovecot, courier, cyrus, uwimap, qpopper, popa3d, pattern or all)\n"),
	BAD("format all and more", "format = all, dovecot\n",
	  "FILE:1: format: all cannot be combined with other formats\n"),
	BAD("format twice", "format = cyrus cyrus\n", "FILE:1: format: cyrus is listed twice\n"),
	BAD("format none", "format = ,\n", "FILE:1: format: no format given\n"),
	GOOD("pattern with format pattern", "format = pattern\npattern = p x%{ip}\npattern = p y%{ip}\n",
	  "format = pattern\npattern = p x%{ip}  # FILE:2\npattern = p y%{ip}  # FILE:3"),
	BAD("pattern unused by format", "format = dovecot\npattern = p x%{ip}\n",
	  "FILE:2: pattern: never used: format (line 1) does not list pattern\n"),
	BAD("format pattern without pattern", "format = dovecot, pattern\n",
	  "FILE:1: format: pattern is listed but no pattern line is given\n"),

	/* pin_dir, max_entries, action, log_level, reader_user */
	GOOD("pin_dir default", "", "pin_dir = /sys/fs/bpf/popgate"),
	GOOD("pin_dir trailing slash", "pin_dir = /sys/fs/bpf/other//\n", "pin_dir = /sys/fs/bpf/other"),
	BAD("pin_dir relative", "pin_dir = popgate\n",
	  "FILE:1: pin_dir: \"popgate\" is not an absolute path\n"),
	GOOD("max_entries default", "", "max_entries = 1048576"),
	GOOD("max_entries 1", "max_entries = 1\n", "max_entries = 1"),
	GOOD("max_entries 16M", "max_entries = 16777216\n", "max_entries = 16777216"),
	BAD("max_entries 0", "max_entries = 0\n",
	  "FILE:1: max_entries: \"0\" is not a number from 1 to 16777216\n"),
	BAD("max_entries 16M+1", "max_entries = 16777217\n",
	  "FILE:1: max_entries: \"16777217\" is not a number from 1 to 16777216\n"),
	BAD("max_entries suffix", "max_entries = 1M\n",
	  "FILE:1: max_entries: \"1M\" is not a number from 1 to 16777216\n"),
	GOOD("action default", "", "action = drop"),
	GOOD("action reject", "action = reject\n", "action = reject"),
	BAD("action bad", "action = block\n", "FILE:1: action: \"block\" is neither drop nor reject\n"),
	GOOD("log_level default", "", "log_level = info"),
	GOOD("log_level debug", "log_level = debug\n", "log_level = debug"),
	BAD("log_level bad", "log_level = warn\n",
	  "FILE:1: log_level: \"warn\" is not a level (error, warning, notice, info or debug)\n"),
	GOOD("reader_user default", "", "reader_user = nobody"),
	GOOD("reader_user root", "reader_user = root\n", "reader_user = root"),
	BAD("reader_user unknown", "reader_user = no-such-user-pg\n",
	  "FILE:1: reader_user: no user \"no-such-user-pg\" on this system\n"),
	BAD("reader_user too long", "reader_user = "
	  "u123456789012345678901234567890123456789012345678901234567890123\n",
	  "FILE:1: reader_user: a user name of 1 to 63 bytes is needed\n"),

	/* All problems are reported, each once, in file order. */
	BAD("several errors", "window = 90x\nports = 0\n# fine\nfoo = bar\naction = block\nwindow = 1m\n",
	  "FILE:1: window: \"90x\" is not a duration (e.g. 90m, 1h30m, 5400s)\n"
	  "FILE:2: ports: \"0\" is not a port (1..65535)\n"
	  "FILE:4: unknown key \"foo\"\n"
	  "FILE:5: action: \"block\" is neither drop nor reject\n"
	  "FILE:6: window: already set on line 1\n"),
	BAD_BARE("errors and no source", "window = 90x\n",
	  "FILE:1: window: \"90x\" is not a duration (e.g. 90m, 1h30m, 5400s)\n"
	  "FILE:0: no source of login lines: set log, journal or stdin = yes\n"),
};

static void run_case(const struct tcase *t)
{
	char text[8192], want[16384];
	struct config c;
	size_t len = t->len ? t->len : strlen(t->text);
	int r;

	memcpy(text, t->text, len);
	if (!t->bare) {
		memcpy(text + len, SOURCE_LINE, strlen(SOURCE_LINE));
		len += strlen(SOURCE_LINE);
	}
	expand(t->want, want, sizeof(want));
	r = load_text(text, len, &c);
	if (t->bad) {
		CHECK(r == -EINVAL, "%s: refused", t->name);
		if (!CHECK(!strcmp(errors, want), "%s: messages", t->name))
			printf("#   got:\n%s#   want:\n%s", errors, want);
		if (!r)
			config_free(&c);
		return;
	}
	if (!CHECK(r == 0 && !errors[0], "%s: loads", t->name)) {
		printf("#   %s", errors);
		return;
	}
	char *out = dump(&c);

	if (!CHECK(has_lines(out, want), "%s: effective config", t->name))
		printf("#   got:\n%s#   want:\n%s\n", out, want);
	free(out);
	config_free(&c);
}

static void test_defaults(void)
{
	static const char want[] =
		"# interface: none\n"
		"ports = 25, 465, 2525\n"
		"window = 1h30m\n"
		"# trust: none\n"
		"# log: none\n"
		"# journal: not read\n"
		"stdin = yes\n"
		"format = all\n"
		"# pattern: none\n"
		"pin_dir = /sys/fs/bpf/popgate\n"
		"max_entries = 1048576\n"
		"action = drop\n"
		"sweep_interval = 1m\n"
		"log_level = info\n"
		"reader_user = nobody\n";
	struct config c;
	char *out;

	config_init_defaults(&c);
	CHECK(c.n_ports == 3 && c.ports[0] == 25 && c.ports[1] == 465 && c.ports[2] == 2525,
	      "defaults: ports");
	CHECK(c.window_s == 5400 && c.sweep_interval_s == 60, "defaults: window, sweep_interval");
	CHECK(c.formats == CONFIG_FORMATS_ALL && c.max_entries == GATE_AUTH_MAX_DEFAULT &&
	      c.action == GATE_ACTION_DROP && c.log_level == LOG_INFO, "defaults: scalars");
	CHECK(!strcmp(c.pin_dir, GATE_PIN_DIR_DEFAULT), "defaults: pin_dir");
	CHECK(!c.n_ifaces && !c.n_trust && !c.n_logs && !c.journal && !c.read_stdin &&
	      !c.n_patterns, "defaults: no lists, no source");
	CHECK(load_text("stdin = yes\n", strlen("stdin = yes\n"), &c) == 0, "defaults: one-line file loads");
	out = dump(&c);
	if (!CHECK(!strcmp(out, want), "defaults: whole effective config"))
		printf("#   got:\n%s", out);
	free(out);
	config_free(&c);
	config_free(&c);
	CHECK(c.n_ports == 3 && !c.ifaces, "config_free twice leaves the defaults");
}

/* What config_print() shows is checked above; here, the struct itself. */
static void test_fields(void)
{
	static const char text[] =
		"interface = eth0 native\ninterface = ens3\ninterface = lo tc\ninterface = v generic\n"
		"trust = 192.0.2.0/24\ntrust = 2001:db8::/32\n"
		"journal = all\nformat = dovecot, cyrus, pattern\npattern = a b%{ip}\n"
		"action = reject\nlog_level = warning\nmax_entries = 42\n";
	char origin[PATH_MAX + 16];
	struct config c;

	if (!CHECK(load_text(text, sizeof(text) - 1, &c) == 0, "fields: loads")) {
		printf("#   %s", errors);
		return;
	}
	CHECK(c.n_ifaces == 4 && c.ifaces[0].mode == ATTACH_NATIVE &&
	      c.ifaces[1].mode == ATTACH_AUTO && c.ifaces[2].mode == ATTACH_TC &&
	      c.ifaces[3].mode == ATTACH_GENERIC && !strcmp(c.ifaces[1].name, "ens3"),
	      "fields: interfaces and modes");
	CHECK(c.n_trust == 2 && c.trust[0].plen == 120 && c.trust[0].addr.s6_addr[10] == 0xff &&
	      c.trust[0].addr.s6_addr[12] == 192 && c.trust[1].plen == 32,
	      "fields: trust kept v4-mapped with IPv6 prefix lengths");
	CHECK(c.journal && !c.journal_unit && !c.read_stdin, "fields: journal = all has no unit");
	CHECK(c.formats == ((1u << 0) | (1u << 2) | (1u << 6)), "fields: format bits in login_parse.h order");
	CHECK(c.n_patterns == 1 && !strcmp(c.patterns[0].text, "a b%{ip}"), "fields: pattern text");
	snprintf(origin, sizeof(origin), "%s:9", conf_path);
	CHECK(!strcmp(c.patterns[0].origin, origin), "fields: pattern origin is FILE:LINE");
	CHECK(c.action == GATE_ACTION_REJECT && c.log_level == LOG_WARNING && c.max_entries == 42,
	      "fields: action, log_level, max_entries");
	config_free(&c);
}

static void test_failure_leaves_config(void)
{
	static const char text[] = "window = 5m\nmax_entries = 9\nbogus = 1\nstdin = yes\n";
	struct config c;

	config_init_defaults(&c);
	c.window_s = 12345;
	c.max_entries = 7;
	CHECK(load_text(text, sizeof(text) - 1, &c) == -EINVAL, "failure: refused as a whole");
	CHECK(c.window_s == 12345 && c.max_entries == 7 && !c.read_stdin,
	      "failure: nothing applied to the caller's config");
}

static void test_long_lines(void)
{
	static char text[3 * CONFIG_LINE_MAX];
	struct config c;
	char want[2 * PATH_MAX];
	size_t n;

	/* Exactly CONFIG_LINE_MAX bytes before the newline: accepted. */
	memset(text, '#', CONFIG_LINE_MAX);
	n = CONFIG_LINE_MAX;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\n%s", SOURCE_LINE);
	CHECK(load_text(text, n, &c) == 0, "line of 4096 bytes is accepted");
	config_free(&c);

	/* A pattern must fit a line once printed back with its escapes. */
	n = (size_t)snprintf(text, sizeof(text), "pattern = ");
	memset(text + n, 'x', 1025);
	n += 1025;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\n%s", SOURCE_LINE);
	expand("FILE:1: pattern: longer than 1024 bytes\n", want, sizeof(want));
	CHECK(load_text(text, n, &c) == -EINVAL && !strcmp(errors, want),
	      "pattern of 1025 bytes is refused");

	/* One more: refused, and the next line still numbered right. */
	memset(text, '#', CONFIG_LINE_MAX + 1);
	n = CONFIG_LINE_MAX + 1;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\nfoo = 1\n%s", SOURCE_LINE);
	CHECK(load_text(text, n, &c) == -EINVAL, "line of 4097 bytes is refused");
	expand("FILE:1: line is longer than 4096 bytes\nFILE:2: unknown key \"foo\"\n", want, sizeof(want));
	if (!CHECK(!strcmp(errors, want), "over-long line: messages"))
		printf("#   got:\n%s", errors);
}

static void test_trust_limit(void)
{
	size_t size = (GATE_TRUST_MAX + 2) * 32, n = 0;
	char *text = malloc(size), want[PATH_MAX + 128];
	struct config c;

	if (!text)
		abort();
	for (unsigned i = 0; i <= GATE_TRUST_MAX; i++)
		n += (size_t)snprintf(text + n, size - n, "trust = 10.%u.%u.0/24\n", i >> 8, i & 255);
	n += (size_t)snprintf(text + n, size - n, "%s", SOURCE_LINE);
	CHECK(load_text(text, n, &c) == -EINVAL, "trust: %d prefixes refused", GATE_TRUST_MAX + 1);
	snprintf(want, sizeof(want), "%s:%d: trust: more than %d trusted prefixes\n",
		 conf_path, GATE_TRUST_MAX + 1, GATE_TRUST_MAX);
	if (!CHECK(!strcmp(errors, want), "trust: limit message"))
		printf("#   got:\n%s", errors);
	n -= strlen(SOURCE_LINE) + strlen("trust = 10.16.0.0/24\n");
	n += (size_t)snprintf(text + n, size - n, "%s", SOURCE_LINE);
	CHECK(load_text(text, n, &c) == 0 && c.n_trust == GATE_TRUST_MAX,
	      "trust: %d prefixes accepted", GATE_TRUST_MAX);
	config_free(&c);
	free(text);
}

static void test_unreadable(void)
{
	char want[PATH_MAX + 64];
	struct config c;

	CHECK(load_capture("/nonexistent/popgate.conf", &c) == -ENOENT, "missing file: -ENOENT");
	CHECK(!strcmp(errors, "/nonexistent/popgate.conf:0: cannot open: No such file or directory\n"),
	      "missing file: message");
	CHECK(load_capture(dir, &c) == -EISDIR, "directory: -EISDIR");
	snprintf(want, sizeof(want), "%s:0: cannot read: Is a directory\n", dir);
	CHECK(!strcmp(errors, want), "directory: message");
}

static void test_fixtures(void)
{
	static const char *const good[] = {
		"tests/fixtures/config/good-minimal.conf",
		"tests/fixtures/config/good-full.conf",
		"deploy/popgate.conf",
	};
	char want[sizeof(errors)];
	struct config c, back;
	ssize_t n;
	int fd;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *first, *second;

		if (!CHECK(load_capture(good[i], &c) == 0 && !errors[0], "%s loads", good[i])) {
			printf("#   %s", errors);
			continue;
		}
		/* What --check -v prints must load back to the same config. */
		first = dump(&c);
		write_file(conf_path, first, strlen(first));
		CHECK(load_capture(conf_path, &back) == 0, "%s: printed config loads", good[i]);
		second = dump(&back);
		/* Only the patterns' origins (comments) may differ: compare without them. */
		for (char *s = first, *e; (e = strstr(s, "  # ")); s = e)
			memmove(e, e + strcspn(e, "\n"), strlen(e + strcspn(e, "\n")) + 1);
		for (char *s = second, *e; (e = strstr(s, "  # ")); s = e)
			memmove(e, e + strcspn(e, "\n"), strlen(e + strcspn(e, "\n")) + 1);
		if (!CHECK(!strcmp(first, second), "%s: printed config round-trips", good[i]))
			printf("#   first:\n%s#   second:\n%s", first, second);
		free(first);
		free(second);
		config_free(&back);
		config_free(&c);
	}

	CHECK(load_capture("tests/fixtures/config/good-full.conf", &c) == 0, "good-full: loads");
	CHECK(c.n_patterns == 3 &&
	      !strcmp(c.patterns[0].text, "mypopd user=<%{user}> from %{ip}") &&
	      !strcmp(c.patterns[1].text, "mypopd  spaces, a # hash, a \"quote\", a \\ and a \\d regex %{ip} ") &&
	      !strcmp(c.patterns[2].text, "p a#b%{ip}") &&
	      !strcmp(c.patterns[1].origin, "tests/fixtures/config/good-full.conf:21"),
	      "good-full: patterns as written, with their origin");
	CHECK(c.n_logs == 2 && !strcmp(c.logs[1], "/var/log/with space #and hash.log") &&
	      !strcmp(c.journal_unit, "dovecot.service") && c.read_stdin,
	      "good-full: sources");
	config_free(&c);

	CHECK(load_capture("tests/fixtures/config/bad-many.conf", &c) == -EINVAL,
	      "bad-many: refused");
	fd = open("tests/fixtures/config/bad-many.err", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, want, sizeof(want) - 1);
	want[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	if (!CHECK(n > 0 && !strcmp(errors, want), "bad-many: every problem, as in bad-many.err"))
		printf("#   got:\n%s", errors);
}

int main(void)
{
	/* msg() prefixes "<N>" under the journal; these tests compare plain lines. */
	unsetenv("JOURNAL_STREAM");
	if (!mkdtemp(dir))
		return 1;
	snprintf(conf_path, sizeof(conf_path), "%s/popgate.conf", dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_defaults();
	test_fields();
	test_failure_leaves_config();
	test_long_lines();
	test_trust_limit();
	test_unreadable();
	test_fixtures();

	unlink(conf_path);
	unlink(err_path);
	rmdir(dir);
	return tap_done();
}
