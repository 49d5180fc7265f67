/* config.c - see config.h; the format is specified in man/popgate.conf.5. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "addr.h"
#include "duration.h"
#include "login_parse.h"
#include "msg.h"
#include "portlist.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SEPARATORS ", \t" /* between the items of ports and format, as portlist.h */

_Static_assert(CONFIG_IFNAMSIZ == IFNAMSIZ, "CONFIG_IFNAMSIZ must equal IFNAMSIZ");

static const uint16_t default_ports[] = { 25, 465, 2525 };
_Static_assert(ARRAY_LEN(default_ports) <= GATE_MAX_PORTS, "too many default ports");

/* popgated hands config.formats to the login parser as is. */
_Static_assert(CONFIG_FORMATS_ALL == LOGIN_ALL, "config formats are login_parse.h's bits");
static const char *const action_names[] = {
	[GATE_ACTION_DROP] = "drop", [GATE_ACTION_REJECT] = "reject",
};
static const char *const bool_names[] = { "no", "yes" };
/* Indexed by syslog priority, so the index is what msg_set_level() takes. */
static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

enum key_id {
	K_INTERFACE, K_PORTS, K_WINDOW, K_TRUST, K_LOG, K_JOURNAL, K_STDIN,
	K_FORMAT, K_PATTERN, K_PIN_DIR, K_MAX_ENTRIES, K_ACTION, K_SWEEP, K_LOG_LEVEL,
	K_READER_USER,
	K_COUNT
};

struct parser {
	const char *file;
	unsigned line;
	unsigned errors;
	int fatal;                /* -errno that is not the file's fault (ENOMEM) */
	struct config c;
	unsigned set_on[K_COUNT]; /* line a key was last given on; 0: never */
	bool source_failed;       /* a source line was wrong: "no source" would be noise */
	bool pattern_listed;      /* "pattern" named in format, not just implied by all */
	struct login_parser *patterns; /* compiles each pattern, to report it here */
};

static __attribute__((format(printf, 2, 3))) int problem(struct parser *p, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	msg(LOG_ERR, "%s:%u: %s", p->file, p->line, text);
	p->errors++;
	return -EINVAL;
}

static int out_of_memory(struct parser *p)
{
	problem(p, "out of memory");
	p->fatal = -ENOMEM;
	return -ENOMEM;
}

static char *skip_space(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static void trim_end(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* Plain decimal only: strtoul alone would take "-1", " 7" and "0x10". */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* dev_valid_name() of the kernel: what it refuses no interface can be called. */
static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static int parse_interface(struct parser *p, const char *key, char *v)
{
	struct config *c = &p->c;
	char *mode = v + strcspn(v, " \t");
	struct config_iface *ifs;
	enum attach_mode m = ATTACH_AUTO;

	if (*mode) {
		*mode = '\0';
		mode = skip_space(mode + 1);
		if (attach_mode_parse(mode, &m) < 0)
			return problem(p, "%s: \"%s\" is not an attach mode (auto, native, generic or tc)",
				       key, mode);
	}
	if (!valid_ifname(v))
		return problem(p, "%s: \"%s\" is not an interface name (1 to %d characters, no \"/\", \":\" or spaces)",
			       key, v, IFNAMSIZ - 1);
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (!strcmp(c->ifaces[i].name, v))
			return problem(p, "%s: %s is already listed", key, v);
	ifs = reallocarray(c->ifaces, c->n_ifaces + 1, sizeof(*ifs));
	if (!ifs)
		return out_of_memory(p);
	c->ifaces = ifs;
	strcpy(ifs[c->n_ifaces].name, v);
	ifs[c->n_ifaces++].mode = m;
	return 0;
}

static int parse_ports(struct parser *p, const char *key, char *v)
{
	const char *bad = NULL;
	uint16_t ports[GATE_MAX_PORTS];
	unsigned n;
	int err = portlist_parse(v, ports, &n, &bad);

	if (err == -E2BIG)
		return problem(p, "%s: more than %d ports", key, GATE_MAX_PORTS);
	if (err && !bad)
		return problem(p, "%s: no port given", key);
	if (err) {
		/* portlist_parse() points at the item; a good number there is a repeat. */
		int len = (int)strcspn(bad, SEPARATORS);
		unsigned long port;
		char item[8];

		snprintf(item, sizeof(item), "%.*s", len, bad);
		if (len < (int)sizeof(item) && !parse_uint(item, 65535, &port) && port)
			return problem(p, "%s: %lu is listed twice", key, port);
		return problem(p, "%s: \"%.*s\" is not a port (1..65535)", key, len, bad);
	}
	memcpy(p->c.ports, ports, n * sizeof(ports[0]));
	p->c.n_ports = n;
	return 0;
}

static int parse_duration_into(struct parser *p, const char *key, const char *v, uint64_t *out)
{
	char max[32];
	int err = duration_parse(v, out);

	if (err == -ERANGE) {
		duration_format(DURATION_MAX_S, max, sizeof(max));
		return problem(p, "%s: \"%s\" is longer than %s", key, v, max);
	}
	/* duration_parse() refuses zero as it refuses garbage; tell them apart. */
	if (err && strspn(v, "0smhd ") == strlen(v) && strchr(v, '0'))
		return problem(p, "%s: \"%s\" is zero (e.g. 90m, 1h30m, 5400s)", key, v);
	if (err)
		return problem(p, "%s: \"%s\" is not a duration (e.g. 90m, 1h30m, 5400s)", key, v);
	return 0;
}

static int parse_window(struct parser *p, const char *key, char *v)
{
	return parse_duration_into(p, key, v, &p->c.window_s);
}

static int parse_sweep(struct parser *p, const char *key, char *v)
{
	return parse_duration_into(p, key, v, &p->c.sweep_interval_s);
}

/*
 * prefix_parse() refuses bits set after the prefix length: say which prefix
 * was meant. The length counts in the family the address is written in, as
 * there.
 */
static int bad_prefix(struct parser *p, const char *key, const char *v)
{
	const char *slash = strchr(v, '/');
	char meant[ADDR_STRLEN];
	struct in6_addr a;
	unsigned long len;
	bool v4_text;

	if (slash && !addr_parse_n(v, (size_t)(slash - v), &a)) {
		v4_text = !memchr(v, ':', (size_t)(slash - v));
		if (!parse_uint(slash + 1, v4_text ? 32 : 128, &len)) {
			unsigned plen = (unsigned)len + (v4_text ? 96 : 0);

			for (unsigned bit = plen; bit < 128; bit++)
				a.s6_addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
			prefix_format(&a, plen, meant, sizeof(meant));
			return problem(p, "%s: \"%s\" has bits set after the prefix length (did you mean %s?)",
				       key, v, meant);
		}
	}
	return problem(p, "%s: \"%s\" is not an address or prefix (e.g. 192.0.2.0/24, 2001:db8::/32)",
		       key, v);
}

static int parse_trust(struct parser *p, const char *key, char *v)
{
	struct config *c = &p->c;
	struct config_prefix pf, *t;
	char text[ADDR_STRLEN];

	if (prefix_parse(v, &pf.addr, &pf.plen))
		return bad_prefix(p, key, v);
	for (size_t i = 0; i < c->n_trust; i++) {
		if (c->trust[i].plen == pf.plen &&
		    !memcmp(&c->trust[i].addr, &pf.addr, sizeof(pf.addr))) {
			prefix_format(&pf.addr, pf.plen, text, sizeof(text));
			return problem(p, "%s: %s is already listed", key, text);
		}
	}
	if (c->n_trust == GATE_TRUST_MAX)
		return problem(p, "%s: more than %d trusted prefixes", key, GATE_TRUST_MAX);
	t = reallocarray(c->trust, c->n_trust + 1, sizeof(*t));
	if (!t)
		return out_of_memory(p);
	c->trust = t;
	t[c->n_trust++] = pf;
	return 0;
}

/* Relative paths would depend on the directory popgated happens to start in. */
static int check_abs_path(struct parser *p, const char *key, const char *v)
{
	if (v[0] != '/')
		return problem(p, "%s: \"%s\" is not an absolute path", key, v);
	return 0;
}

static int parse_log(struct parser *p, const char *key, char *v)
{
	struct config *c = &p->c;
	char **logs, *path;
	int err = check_abs_path(p, key, v);

	if (err)
		return err;
	for (size_t i = 0; i < c->n_logs; i++)
		if (!strcmp(c->logs[i], v))
			return problem(p, "%s: %s is already listed", key, v);
	path = strdup(v);
	logs = path ? reallocarray(c->logs, c->n_logs + 1, sizeof(*logs)) : NULL;
	if (!logs) {
		free(path);
		return out_of_memory(p);
	}
	c->logs = logs;
	logs[c->n_logs++] = path;
	return 0;
}

static int parse_journal(struct parser *p, const char *key, char *v)
{
	size_t n = strlen(v);
	char *unit;

	if (!strcmp(v, "all")) {
		p->c.journal = true;
		return 0;
	}
	/* systemd's unit name alphabet; 256 is its UNIT_NAME_MAX, and a name
	 * without a type gets ".service" (below): count it only then. */
	if (n + (strchr(v, '.') ? 1 : sizeof(".service")) > 256 ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@") != n)
		return problem(p, "%s: \"%s\" is neither a unit name (e.g. dovecot.service) nor all",
			       key, v);
	/* As journalctl -u does: the journal's _SYSTEMD_UNIT always has a type. */
	if (strchr(v, '.'))
		unit = strdup(v);
	else if (asprintf(&unit, "%s.service", v) < 0)
		unit = NULL;
	if (!unit)
		return out_of_memory(p);
	p->c.journal = true;
	p->c.journal_unit = unit;
	return 0;
}

static int parse_stdin(struct parser *p, const char *key, char *v)
{
	int b = name_index(bool_names, ARRAY_LEN(bool_names), v);

	if (b < 0)
		return problem(p, "%s: \"%s\" is neither yes nor no", key, v);
	p->c.read_stdin = b;
	return 0;
}

static int parse_format(struct parser *p, const char *key, char *v)
{
	unsigned mask = 0, items = 0;
	bool all = false;
	char *save, *tok;

	for (tok = strtok_r(v, SEPARATORS, &save); tok; tok = strtok_r(NULL, SEPARATORS, &save)) {
		unsigned bit;

		items++;
		if (!strcmp(tok, "all")) {
			all = true;
			continue;
		}
		if (login_format_from_name(tok, &bit) < 0)
			return problem(p, "%s: \"%s\" is not a format (dovecot, courier, cyrus, uwimap, qpopper, popa3d, pattern or all)",
				       key, tok);
		if (mask & bit)
			return problem(p, "%s: %s is listed twice", key, tok);
		mask |= bit;
	}
	if (!items)
		return problem(p, "%s: no format given", key);
	if (all && items > 1)
		return problem(p, "%s: all cannot be combined with other formats", key);
	p->c.formats = all ? CONFIG_FORMATS_ALL : mask;
	p->pattern_listed = mask & LOGIN_PATTERN;
	return 0;
}

/* A pattern must still fit a line when config_print() writes it back, with
 * its escapes and its FILE:LINE comment. */
#define PATTERN_MAX 1024

static int parse_pattern(struct parser *p, const char *key, char *v)
{
	struct config *c = &p->c;
	struct config_pattern *pats;
	char *text, why[256];

	if (strlen(v) > PATTERN_MAX)
		return problem(p, "%s: longer than %d bytes", key, PATTERN_MAX);
	/* Compiled now, so a bad one is reported with every other problem. */
	if (!p->patterns && login_parser_new(&p->patterns, LOGIN_PATTERN) < 0)
		return out_of_memory(p);
	why[0] = '\0';
	if (login_parser_add_pattern(p->patterns, v, why, sizeof(why)) < 0)
		return problem(p, "%s: %s", key, why);
	text = strdup(v);
	pats = text ? reallocarray(c->patterns, c->n_patterns + 1, sizeof(*pats)) : NULL;
	if (!pats) {
		free(text);
		return out_of_memory(p);
	}
	c->patterns = pats;
	pats[c->n_patterns].text = text;
	snprintf(pats[c->n_patterns].origin, sizeof(pats->origin), "%s:%u", p->file, p->line);
	c->n_patterns++;
	return 0;
}

static int parse_pin_dir(struct parser *p, const char *key, char *v)
{
	int err = check_abs_path(p, key, v);
	size_t n = strlen(v);

	if (err)
		return err;
	/* Room for "/" and the longest pinned object's name. */
	if (n >= sizeof(p->c.pin_dir) - 32)
		return problem(p, "%s: path is longer than %zu bytes", key, sizeof(p->c.pin_dir) - 33);
	/* "/sys/fs/bpf/popgate/" and the default name the same pins. */
	while (n > 1 && v[n - 1] == '/')
		v[--n] = '\0';
	strcpy(p->c.pin_dir, v);
	return 0;
}

static int parse_max_entries(struct parser *p, const char *key, char *v)
{
	unsigned long n;

	if (parse_uint(v, CONFIG_MAX_ENTRIES_MAX, &n) || n == 0)
		return problem(p, "%s: \"%s\" is not a number from 1 to %u",
			       key, v, CONFIG_MAX_ENTRIES_MAX);
	p->c.max_entries = (unsigned)n;
	return 0;
}

static int parse_action(struct parser *p, const char *key, char *v)
{
	int a = name_index(action_names, ARRAY_LEN(action_names), v);

	if (a < 0)
		return problem(p, "%s: \"%s\" is neither drop nor reject", key, v);
	p->c.action = (enum gate_action)a;
	return 0;
}

static int parse_log_level(struct parser *p, const char *key, char *v)
{
	int l = name_index(level_names, ARRAY_LEN(level_names), v);

	if (l < 0)
		return problem(p, "%s: \"%s\" is not a level (error, warning, notice, info or debug)",
			       key, v);
	p->c.log_level = l;
	return 0;
}

/* The user must exist now: a reader that cannot become it never starts. */
static int parse_reader_user(struct parser *p, const char *key, char *v)
{
	if (!*v || strlen(v) >= sizeof(p->c.reader_user))
		return problem(p, "%s: a user name of 1 to %zu bytes is needed", key,
			       sizeof(p->c.reader_user) - 1);
	errno = 0;
	if (!getpwnam(v)) {
		/* getpwnam(3): these mean "not found" too; others, a lookup failure. */
		bool absent = !errno || errno == ENOENT || errno == ESRCH || errno == EBADF ||
			      errno == EPERM;

		return problem(p, "%s: no user \"%s\" on this system%s%s", key, v,
			       absent ? "" : ": ", absent ? "" : strerror(errno));
	}
	strcpy(p->c.reader_user, v);
	return 0;
}

static const struct key {
	const char *name;
	int (*parse)(struct parser *p, const char *key, char *value);
	bool repeatable;
	bool source;
} keys[K_COUNT] = {
	[K_INTERFACE]   = { "interface",      parse_interface,   true,  false },
	[K_PORTS]       = { "ports",          parse_ports,       false, false },
	[K_WINDOW]      = { "window",         parse_window,      false, false },
	[K_TRUST]       = { "trust",          parse_trust,       true,  false },
	[K_LOG]         = { "log",            parse_log,         true,  true  },
	[K_JOURNAL]     = { "journal",        parse_journal,     false, true  },
	[K_STDIN]       = { "stdin",          parse_stdin,       false, true  },
	[K_FORMAT]      = { "format",         parse_format,      false, false },
	[K_PATTERN]     = { "pattern",        parse_pattern,     true,  false },
	[K_PIN_DIR]     = { "pin_dir",        parse_pin_dir,     false, false },
	[K_MAX_ENTRIES] = { "max_entries",    parse_max_entries, false, false },
	[K_ACTION]      = { "action",         parse_action,      false, false },
	[K_SWEEP]       = { "sweep_interval", parse_sweep,       false, false },
	[K_LOG_LEVEL]   = { "log_level",      parse_log_level,   false, false },
	[K_READER_USER] = { "reader_user",    parse_reader_user, false, false },
};

/*
 * The value after "=". Unquoted, it ends where a comment starts: a "#" first
 * or after whitespace, so "a#b" stays whole. Quoted, only \" and \\ are
 * escapes; any other backslash is kept, so patterns need no doubling.
 */
static int unquote(struct parser *p, const char *key, char *s, char **value)
{
	char *r, *w;

	s = skip_space(s);
	if (*s != '"') {
		for (r = s; *r; r++) {
			if (*r == '#' && (r == s || isspace((unsigned char)r[-1]))) {
				*r = '\0';
				break;
			}
		}
		trim_end(s);
		*value = s;
		return 0;
	}
	for (r = w = s + 1; *r != '"'; r++, w++) {
		if (!*r)
			return problem(p, "%s: the quoted value has no closing quote", key);
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w = *r;
	}
	*w = '\0';
	r = skip_space(r + 1);
	if (*r && *r != '#')
		return problem(p, "%s: text after the closing quote: %s", key, r);
	*value = s + 1;
	return 0;
}

static void parse_line(struct parser *p, char *s)
{
	const struct key *k = NULL;
	char *eq, *value = NULL;
	int id, err;

	s = skip_space(s);
	if (!*s || *s == '#')
		return;
	eq = strchr(s, '=');
	if (!eq) {
		trim_end(s);
		problem(p, "\"%s\": missing \"=\" (lines are key = value)", s);
		return;
	}
	*eq = '\0';
	trim_end(s);
	if (!*s) {
		problem(p, "missing key before \"=\"");
		return;
	}
	for (id = 0; id < K_COUNT && !k; id++)
		if (!strcmp(keys[id].name, s))
			k = &keys[id];
	if (!k) {
		problem(p, "unknown key \"%s\"", s);
		return;
	}
	id = (int)(k - keys);
	if (!k->repeatable && p->set_on[id]) {
		problem(p, "%s: already set on line %u", k->name, p->set_on[id]);
		return;
	}
	p->set_on[id] = p->line;
	err = unquote(p, k->name, eq + 1, &value);
	if (!err && !*value)
		err = problem(p, "%s: no value", k->name);
	if (!err)
		err = k->parse(p, k->name, value);
	if (err && k->source)
		p->source_failed = true;
}

/* Rules between keys, once every line has been read. */
static void check_whole(struct parser *p)
{
	const struct config *c = &p->c;

	if (c->n_patterns && p->set_on[K_FORMAT] && !(c->formats & LOGIN_PATTERN)) {
		p->line = p->set_on[K_PATTERN];
		problem(p, "pattern: never used: format (line %u) does not list pattern",
			p->set_on[K_FORMAT]);
	}
	if (p->pattern_listed && !c->n_patterns) {
		p->line = p->set_on[K_FORMAT];
		problem(p, "format: pattern is listed but no pattern line is given");
	}
	if (!c->n_logs && !c->journal && !c->read_stdin && !p->source_failed) {
		p->line = 0;
		problem(p, "no source of login lines: set log, journal or stdin = yes");
	}
}

/*
 * One line, without its newline, into buf (CONFIG_LINE_MAX + 1 bytes).
 * Returns 1, 0 at the end of the file, or -errno. The rest of an over-long
 * line is read and thrown away so that the next line is numbered right.
 */
static int read_line(FILE *f, char *buf, bool *too_long, bool *nul)
{
	size_t n = 0;
	int ch;

	*nul = *too_long = false;
	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (n < CONFIG_LINE_MAX)
			buf[n] = (char)ch;
		*nul |= ch == '\0';
		n++;
	}
	if (ferror(f))
		return errno ? -errno : -EIO;
	if (ch == EOF && n == 0)
		return 0;
	*too_long = n > CONFIG_LINE_MAX;
	buf[*too_long ? CONFIG_LINE_MAX : n] = '\0';
	return 1;
}

int config_load(const char *path, struct config *out)
{
	struct parser p = { .file = path };
	char buf[CONFIG_LINE_MAX + 1];
	bool too_long, nul;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		msg(LOG_ERR, "%s:0: cannot open: %s", path, strerror(-r));
		return r;
	}
	config_init_defaults(&p.c);
	errno = 0;
	while ((r = read_line(f, buf, &too_long, &nul)) > 0) {
		p.line++;
		if (too_long)
			problem(&p, "line is longer than %d bytes", CONFIG_LINE_MAX);
		else if (nul)
			problem(&p, "line contains a NUL byte");
		else
			parse_line(&p, buf);
		errno = 0;
	}
	fclose(f);
	login_parser_free(p.patterns);
	if (r < 0) {
		p.line = 0;
		problem(&p, "cannot read: %s", strerror(-r));
		p.fatal = r;
	} else {
		check_whole(&p);
	}
	if (p.errors) {
		config_free(&p.c);
		return p.fatal ? p.fatal : -EINVAL;
	}
	*out = p.c;
	return 0;
}

void config_init_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->ports, default_ports, sizeof(default_ports));
	c->n_ports = ARRAY_LEN(default_ports);
	c->window_s = 90 * 60;
	c->formats = CONFIG_FORMATS_ALL;
	snprintf(c->pin_dir, sizeof(c->pin_dir), "%s", GATE_PIN_DIR_DEFAULT);
	c->max_entries = GATE_AUTH_MAX_DEFAULT;
	c->action = GATE_ACTION_DROP;
	c->sweep_interval_s = 60;
	c->log_level = LOG_INFO;
	snprintf(c->reader_user, sizeof(c->reader_user), "%s", CONFIG_READER_USER_DEFAULT);
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < c->n_logs; i++)
		free(c->logs[i]);
	for (size_t i = 0; i < c->n_patterns; i++)
		free(c->patterns[i].text);
	free(c->ifaces);
	free(c->trust);
	free(c->logs);
	free(c->journal_unit);
	free(c->patterns);
	config_init_defaults(c);
}

/* Quote only where the bare text would read back differently. */
static void print_kv(FILE *out, const char *key, const char *v, const char *comment)
{
	size_t n = strlen(v);
	bool quote = n == 0 || v[0] == '"' || isspace((unsigned char)v[0]) ||
		     isspace((unsigned char)v[n - 1]) || v[0] == '#';

	for (size_t i = 1; i < n && !quote; i++)
		quote = v[i] == '#' && isspace((unsigned char)v[i - 1]);
	fprintf(out, "%s = ", key);
	if (quote) {
		fputc('"', out);
		for (; *v; v++) {
			if (*v == '"' || *v == '\\')
				fputc('\\', out);
			fputc(*v, out);
		}
		fputc('"', out);
	} else {
		fputs(v, out);
	}
	if (comment)
		fprintf(out, "  # %s", comment);
	fputc('\n', out);
}

static void print_list_none(FILE *out, const char *key, size_t n)
{
	if (!n)
		fprintf(out, "# %s: none\n", key);
}

void config_print(const struct config *c, FILE *out)
{
	char buf[PATH_MAX + 32];

	print_list_none(out, "interface", c->n_ifaces);
	for (size_t i = 0; i < c->n_ifaces; i++) {
		snprintf(buf, sizeof(buf), "%s %s", c->ifaces[i].name,
			 attach_mode_name(c->ifaces[i].mode));
		print_kv(out, "interface", buf, NULL);
	}
	fprintf(out, "ports = ");
	for (unsigned i = 0; i < c->n_ports; i++)
		fprintf(out, "%s%u", i ? ", " : "", c->ports[i]);
	fputc('\n', out);
	duration_format(c->window_s, buf, sizeof(buf));
	fprintf(out, "window = %s\n", buf);
	print_list_none(out, "trust", c->n_trust);
	for (size_t i = 0; i < c->n_trust; i++) {
		prefix_format(&c->trust[i].addr, c->trust[i].plen, buf, sizeof(buf));
		fprintf(out, "trust = %s\n", buf);
	}
	print_list_none(out, "log", c->n_logs);
	for (size_t i = 0; i < c->n_logs; i++)
		print_kv(out, "log", c->logs[i], NULL);
	if (c->journal)
		fprintf(out, "journal = %s\n", c->journal_unit ? c->journal_unit : "all");
	else
		fprintf(out, "# journal: not read\n");
	fprintf(out, "stdin = %s\n", bool_names[c->read_stdin]);
	if (c->formats == CONFIG_FORMATS_ALL) {
		fprintf(out, "format = all\n");
	} else {
		const char *sep = "";

		fprintf(out, "format = ");
		for (unsigned bit = 1; bit & CONFIG_FORMATS_ALL; bit <<= 1) {
			if (c->formats & bit) {
				fprintf(out, "%s%s", sep, login_format_name(bit));
				sep = ", ";
			}
		}
		fputc('\n', out);
	}
	print_list_none(out, "pattern", c->n_patterns);
	for (size_t i = 0; i < c->n_patterns; i++)
		print_kv(out, "pattern", c->patterns[i].text, c->patterns[i].origin);
	print_kv(out, "pin_dir", c->pin_dir, NULL);
	fprintf(out, "max_entries = %u\n", c->max_entries);
	fprintf(out, "action = %s\n", action_names[c->action]);
	duration_format(c->sweep_interval_s, buf, sizeof(buf));
	fprintf(out, "sweep_interval = %s\n", buf);
	fprintf(out, "log_level = %s\n", level_names[c->log_level]);
	print_kv(out, "reader_user", c->reader_user, NULL);
}
