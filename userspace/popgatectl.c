/*
 * popgatectl - the operator's tool over popgate's pinned state.
 *
 * Works whether or not popgated runs: everything lives in the pin dir.
 * One table entry per verb; output is plain text, or JSON with --json.
 * Exit status: 0 success, 1 operational failure, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "attach.h"
#include "bpf_log.h"
#include "duration.h"
#include "gate_maps.h"
#include "json_out.h"
#include "msg.h"
#include "portlist.h"

#define EXIT_OPS 1
#define EXIT_USAGE 2
#define DEFAULT_WINDOW_S (90 * 60)

static const char *pin_dir;
static bool json;

static const char usage_text[] =
	"usage: popgatectl [--pin-dir DIR] [--json] COMMAND [ARGS]\n"
	"\n"
	"  attach IFACE [--mode auto|native|generic|tc]  put the gate on IFACE (default auto:\n"
	"                                                native XDP, else tc ingress)\n"
	"  detach IFACE                                  take it off\n"
	"  status                                        attachments, maps, ports, action\n"
	"  allow ADDR [--for DURATION] [--user NAME]     authorize ADDR (default 90m;\n"
	"                                                e.g. 15m, 1h30m, 5400s)\n"
	"  revoke ADDR                                   remove ADDR's authorization\n"
	"  flush                                         remove every authorization\n"
	"  list                                          authorized addresses\n"
	"  trust add|del CIDR                            always allow a prefix\n"
	"  trust list                                    trusted prefixes\n"
	"  ports set PORT[,PORT...]                      gated ports (default 25,465,2525)\n"
	"  ports list                                    gated ports\n"
	"  stats                                         verdict counters\n"
	"  action drop|reject                            refused SYNs: dropped silently, or\n"
	"                                                answered with a TCP RST (XDP modes;\n"
	"                                                tc always drops)\n"
	"\n"
	"  --pin-dir DIR   state directory on bpffs (default $POPGATE_PIN_DIR, else\n"
	"                  " GATE_PIN_DIR_DEFAULT ")\n"
	"  --json          machine-readable output (status, list, trust list, ports list, stats)\n"
	"\n"
	"exit status: 0 success, 1 operational failure (no such state, interface,\n"
	"map full, kernel refused), 2 bad usage (unknown command, bad address,\n"
	"duration or port).\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	msg(LOG_ERR, "%s (see popgatectl --help)", text);
	return EXIT_USAGE;
}

static int need_args(int argc, int want, const char *verb)
{
	if (argc - optind != want)
		return usage_error("%s: expected %d argument%s, got %d", verb, want,
				   want == 1 ? "" : "s", argc - optind);
	return 0;
}

/* Verbs that change state create it when it is missing (pre-seeding trust
 * or ports before the first attach is fine); readers only open it. */
static int open_maps(struct gate_maps *m, bool create)
{
	if (create && gate_state_create(pin_dir, 0))
		return EXIT_OPS;
	return gate_maps_open(m, pin_dir) ? EXIT_OPS : 0;
}

/* Open the maps, run one operation, close them; report a failure once,
 * with the verb's name. */
static int with_maps(bool create, const char *what,
		     int (*op)(const struct gate_maps *m, void *arg), void *arg)
{
	struct gate_maps m;
	int err;

	if (open_maps(&m, create))
		return EXIT_OPS;
	err = op(&m, arg);
	gate_maps_close(&m);
	if (err) {
		msg(LOG_ERR, "%s: %s", what, strerror(-err));
		return EXIT_OPS;
	}
	return 0;
}

static int read_config(const struct gate_maps *m, void *arg)
{
	return gate_config_get(m, arg);
}

static int read_stats(const struct gate_maps *m, void *arg)
{
	return gate_stats_read(m, arg);
}

struct ports {
	uint16_t list[GATE_MAX_PORTS];
	unsigned n;
};

static int write_ports(const struct gate_maps *m, void *arg)
{
	const struct ports *p = arg;

	return gate_ports_set(m, p->list, p->n);
}

static int write_action(const struct gate_maps *m, void *arg)
{
	return gate_action_set(m, *(enum gate_action *)arg);
}

static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = { { "mode", required_argument, NULL, 'm' }, { 0 } };
	enum attach_mode mode = ATTACH_AUTO, used;
	int c;

	optind = 0; /* glibc re-initialises getopt (drops main's '+') only at 0 */
	while ((c = getopt_long(argc, argv, "m:", opts, NULL)) != -1) {
		if (c != 'm')
			return EXIT_USAGE;
		if (attach_mode_parse(optarg, &mode))
			return usage_error("attach: --mode %s: expected auto, native, generic or tc",
					   optarg);
	}
	if (need_args(argc, 1, "attach"))
		return EXIT_USAGE;
	if (gate_attach(pin_dir, argv[optind], mode, &used, NULL))
		return EXIT_OPS;
	printf("%s: attached (%s)\n", argv[optind], attach_mode_name(used));
	return 0;
}

static int cmd_detach(int argc, char **argv)
{
	if (need_args(argc, 1, "detach"))
		return EXIT_USAGE;
	if (gate_detach(pin_dir, argv[optind]))
		return EXIT_OPS;
	printf("%s: detached\n", argv[optind]);
	return 0;
}

/* Keep what a terminal or a log can show safely; the rest becomes '?'. */
static void clean_user(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < len && src[i]; i++)
		dst[i] = src[i] > 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

static int cmd_allow(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ 0 },
	};
	uint64_t window = DEFAULT_WINDOW_S;
	char user[GATE_USER_LEN] = "popgatectl", text[ADDR_STRLEN], dur[32];
	struct in6_addr a;
	struct gate_maps m;
	int c, err;

	optind = 0;
	while ((c = getopt_long(argc, argv, "f:u:", opts, NULL)) != -1) {
		if (c == 'f' && duration_parse(optarg, &window))
			return usage_error("allow: --for %s: not a duration (e.g. 90m, 1h30m, 5400s)",
					   optarg);
		if (c == 'u')
			clean_user(user, sizeof(user), optarg);
		if (c == '?')
			return EXIT_USAGE;
	}
	if (need_args(argc, 1, "allow"))
		return EXIT_USAGE;
	if (addr_parse(argv[optind], &a))
		return usage_error("allow: %s: not an IPv4 or IPv6 address", argv[optind]);
	if (open_maps(&m, true))
		return EXIT_OPS;
	err = gate_auth_set(&m, &a, window, user);
	gate_maps_close(&m);
	addr_format(&a, text, sizeof(text));
	if (err) {
		msg(LOG_ERR, "allow %s: %s", text,
		    err == -E2BIG ? "the authorized set is full (see max_entries)" : strerror(-err));
		return EXIT_OPS;
	}
	duration_format(window, dur, sizeof(dur));
	printf("%s: allowed for %s\n", text, dur);
	return 0;
}

static int cmd_revoke(int argc, char **argv)
{
	char text[ADDR_STRLEN];
	struct in6_addr a;
	struct gate_maps m;
	int err;

	if (need_args(argc, 1, "revoke"))
		return EXIT_USAGE;
	if (addr_parse(argv[optind], &a))
		return usage_error("revoke: %s: not an IPv4 or IPv6 address", argv[optind]);
	if (open_maps(&m, false))
		return EXIT_OPS;
	err = gate_auth_del(&m, &a);
	gate_maps_close(&m);
	addr_format(&a, text, sizeof(text));
	if (err) {
		msg(LOG_ERR, "revoke %s: %s", text,
		    err == -ENOENT ? "not authorized" : strerror(-err));
		return EXIT_OPS;
	}
	printf("%s: revoked\n", text);
	return 0;
}

static int cmd_flush(int argc, char **argv)
{
	struct gate_maps m;
	unsigned n = 0;
	int err;

	(void)argv;
	if (need_args(argc, 0, "flush"))
		return EXIT_USAGE;
	if (open_maps(&m, false))
		return EXIT_OPS;
	err = gate_auth_sweep(&m, UINT64_MAX, &n, NULL);
	/* Also the bits that revokes left behind. */
	if (!err)
		err = gate_seen_rebuild(&m);
	gate_maps_close(&m);
	if (err) {
		msg(LOG_ERR, "flush: %s", strerror(-err));
		return EXIT_OPS;
	}
	printf("flushed %u authorization%s\n", n, n == 1 ? "" : "s");
	return 0;
}

struct list_ctx {
	struct json j;
	uint64_t now;
	unsigned n;
};

static int list_one(void *arg, const struct in6_addr *a, const struct gate_auth *v)
{
	struct list_ctx *l = arg;
	int64_t left = ((int64_t)v->expires_ns - (int64_t)l->now) / 1000000000;
	uint64_t ago = (l->now - v->authorized_ns) / 1000000000;
	char text[ADDR_STRLEN], user[GATE_USER_LEN + 1], exp[32], since[32];

	addr_format(a, text, sizeof(text));
	memcpy(user, v->user, GATE_USER_LEN);
	user[GATE_USER_LEN] = '\0';
	if (json) {
		json_object_begin(&l->j, NULL);
		json_string(&l->j, "addr", text);
		json_string(&l->j, "user", user);
		json_i64(&l->j, "expires_in_s", left);
		json_u64(&l->j, "authorized_s_ago", ago);
		json_bool(&l->j, "expired", v->expires_ns <= l->now);
		json_object_end(&l->j);
	} else {
		char shown[GATE_USER_LEN + 1];

		if (!l->n++)
			printf("%-40s %-20s %-12s %s\n", "ADDRESS", "USER", "EXPIRES IN", "AUTHORIZED");
		clean_user(shown, sizeof(shown), user);
		if (left > 0)
			duration_format((uint64_t)left, exp, sizeof(exp));
		else
			snprintf(exp, sizeof(exp), "expired");
		duration_format(ago, since, sizeof(since));
		printf("%-40s %-20s %-12s %s ago\n", text, shown[0] ? shown : "-", exp, since);
	}
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	struct list_ctx l = { .now = gate_now_ns() };
	struct gate_maps m;
	int err;

	(void)argv;
	if (need_args(argc, 0, "list"))
		return EXIT_USAGE;
	if (open_maps(&m, false))
		return EXIT_OPS;
	json_init(&l.j, stdout);
	if (json)
		json_array_begin(&l.j, NULL);
	err = gate_auth_foreach(&m, list_one, &l);
	if (json)
		json_array_end(&l.j);
	gate_maps_close(&m);
	if (err) {
		msg(LOG_ERR, "list: %s", strerror(-err));
		return EXIT_OPS;
	}
	return 0;
}

static int trust_print(void *arg, const struct in6_addr *a, unsigned plen)
{
	struct json *j = arg;
	char text[ADDR_STRLEN];

	prefix_format(a, plen, text, sizeof(text));
	if (json)
		json_string(j, NULL, text);
	else
		printf("%s\n", text);
	return 0;
}

static int cmd_trust(int argc, char **argv)
{
	const char *sub = optind < argc ? argv[optind++] : "";
	bool add = strcmp(sub, "add") == 0, del = strcmp(sub, "del") == 0;
	char text[ADDR_STRLEN];
	struct gate_maps m;
	struct in6_addr a;
	unsigned plen;
	struct json j;
	int err;

	if (strcmp(sub, "list") == 0) {
		if (need_args(argc, 0, "trust list") || open_maps(&m, false))
			return argc - optind ? EXIT_USAGE : EXIT_OPS;
		json_init(&j, stdout);
		if (json)
			json_array_begin(&j, NULL);
		err = gate_trust_foreach(&m, trust_print, &j);
		if (json)
			json_array_end(&j);
		gate_maps_close(&m);
		return err ? EXIT_OPS : 0;
	}
	if (!add && !del)
		return usage_error("trust: expected add, del or list");
	if (need_args(argc, 1, add ? "trust add" : "trust del"))
		return EXIT_USAGE;
	if (prefix_parse(argv[optind], &a, &plen))
		return usage_error("trust %s: %s: not a prefix (e.g. 192.0.2.0/24, 2001:db8::/32; "
				   "no host bits set)", sub, argv[optind]);
	if (open_maps(&m, add))
		return EXIT_OPS;
	err = add ? gate_trust_add(&m, &a, plen) : gate_trust_del(&m, &a, plen);
	gate_maps_close(&m);
	prefix_format(&a, plen, text, sizeof(text));
	if (err) {
		msg(LOG_ERR, "trust %s %s: %s", sub, text,
		    err == -ENOENT ? "not trusted" :
		    err == -ENOSPC || err == -E2BIG ? "the trusted set is full" : strerror(-err));
		return EXIT_OPS;
	}
	printf("%s: %s\n", text, add ? "trusted" : "no longer trusted");
	return 0;
}

static int cmd_ports(int argc, char **argv)
{
	const char *sub = optind < argc ? argv[optind++] : "";
	struct gate_config c;
	const char *bad = NULL;
	struct ports p;
	struct json j;
	int err;

	if (strcmp(sub, "set") == 0) {
		if (need_args(argc, 1, "ports set"))
			return EXIT_USAGE;
		err = portlist_parse(argv[optind], p.list, &p.n, &bad);
		if (err == -E2BIG)
			return usage_error("ports set: at most %d ports", GATE_MAX_PORTS);
		if (err)
			return usage_error("ports set: '%s': expected ports 1-65535, no duplicates, "
					   "e.g. 25,465,2525", bad ? bad : argv[optind]);
		return with_maps(true, "ports set", write_ports, &p);
	}
	if (strcmp(sub, "list") != 0)
		return usage_error("ports: expected set or list");
	if (need_args(argc, 0, "ports list"))
		return EXIT_USAGE;
	if (with_maps(false, "ports list", read_config, &c))
		return EXIT_OPS;
	json_init(&j, stdout);
	if (json)
		json_array_begin(&j, NULL);
	for (unsigned i = 0; i < c.nports && i < GATE_MAX_PORTS; i++) {
		if (json)
			json_u64(&j, NULL, c.ports[i]);
		else
			printf("%s%u", i ? "," : "", c.ports[i]);
	}
	if (json)
		json_array_end(&j);
	else
		printf("\n");
	return 0;
}

static int cmd_action(int argc, char **argv)
{
	enum gate_action action;

	if (need_args(argc, 1, "action"))
		return EXIT_USAGE;
	if (strcmp(argv[optind], "drop") == 0)
		action = GATE_ACTION_DROP;
	else if (strcmp(argv[optind], "reject") == 0)
		action = GATE_ACTION_REJECT;
	else
		return usage_error("action: expected drop or reject");
	return with_maps(true, "action", write_action, &action);
}

static int cmd_stats(int argc, char **argv)
{
	struct gate_stats s;
	struct json j;
	__u64 *v = (__u64 *)&s;

	(void)argv;
	if (need_args(argc, 0, "stats"))
		return EXIT_USAGE;
	if (with_maps(false, "stats", read_stats, &s))
		return EXIT_OPS;
	json_init(&j, stdout);
	if (json)
		json_object_begin(&j, NULL);
	for (int i = 0; i < GATE_COUNTER_MAX; i++) {
		if (json)
			json_u64(&j, gate_counter_names[i], v[i]);
		else
			printf("%-20s %llu\n", gate_counter_names[i], (unsigned long long)v[i]);
	}
	if (json)
		json_object_end(&j);
	return 0;
}

struct status_ctx {
	struct json *j;
	unsigned n;
};

static int status_attachment(void *arg, const struct attach_info *a)
{
	struct status_ctx *s = arg;
	const char *state = !a->ifindex ? "interface gone" : a->active ? "active" : "not active";

	s->n++;
	if (json) {
		json_object_begin(s->j, NULL);
		json_string(s->j, "interface", a->ifname);
		json_string(s->j, "mode", attach_mode_name(a->mode));
		json_u64(s->j, "prog_id", a->prog_id);
		json_bool(s->j, "active", a->active);
		json_string(s->j, "state", state);
		json_object_end(s->j);
	} else {
		printf("  %-16s %-8s prog %-6u %s\n", a->ifname, attach_mode_name(a->mode),
		       a->prog_id, state);
	}
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	unsigned nauth = 0, ntrust = 0;
	uint64_t nseen = 0, seen_bits = 0;
	struct gate_config c;
	struct gate_maps m;
	struct status_ctx s;
	uint32_t cap = 0;
	struct json j;
	int err;

	(void)argv;
	if (need_args(argc, 0, "status"))
		return EXIT_USAGE;
	if (open_maps(&m, false))
		return EXIT_OPS;
	err = gate_config_get(&m, &c);
	if (!err)
		err = gate_auth_count(&m, &nauth);
	if (!err)
		err = gate_trust_count(&m, &ntrust);
	if (!err)
		err = gate_auth_capacity(&m, &cap);
	if (!err)
		err = gate_seen_count(&m, &nseen, &seen_bits);
	gate_maps_close(&m);
	if (err) {
		msg(LOG_ERR, "status: %s", strerror(-err));
		return EXIT_OPS;
	}
	json_init(&j, stdout);
	s.j = &j;
	s.n = 0;
	if (json) {
		json_object_begin(&j, NULL);
		json_string(&j, "pin_dir", pin_dir);
		json_string(&j, "action", c.action == GATE_ACTION_REJECT ? "reject" : "drop");
		json_array_begin(&j, "ports");
		for (unsigned i = 0; i < c.nports && i < GATE_MAX_PORTS; i++)
			json_u64(&j, NULL, c.ports[i]);
		json_array_end(&j);
		json_u64(&j, "authorized", nauth);
		json_u64(&j, "authorized_max", cap);
		json_u64(&j, "trusted_prefixes", ntrust);
		json_bool(&j, "screen", gate_seen_on(&c));
		json_u64(&j, "screen_bits", nseen);
		json_u64(&j, "screen_size", seen_bits);
		json_array_begin(&j, "attachments");
	} else {
		printf("pin dir:     %s\n", pin_dir);
		printf("action:      %s\n", c.action == GATE_ACTION_REJECT ? "reject" : "drop");
		printf("ports:      ");
		for (unsigned i = 0; i < c.nports && i < GATE_MAX_PORTS; i++)
			printf(" %u", c.ports[i]);
		printf("\nauthorized:  %u of %u (%.1f%%)\n", nauth, cap, cap ? 100.0 * nauth / cap : 0);
		printf("trusted:     %u prefix%s\n", ntrust, ntrust == 1 ? "" : "es");
		if (gate_seen_on(&c))
			printf("screen:      %llu of %llu bits set (%.2f%% of unknown sources "
			       "reach the lookup)\n", (unsigned long long)nseen,
			       (unsigned long long)seen_bits, 100.0 * (double)nseen / (double)seen_bits);
		else
			printf("screen:      off (every source is looked up)\n");
		printf("attachments:\n");
	}
	err = gate_attach_foreach(pin_dir, status_attachment, &s);
	if (json) {
		json_array_end(&j);
		json_object_end(&j);
	} else if (!s.n) {
		printf("  (none: the gate is not enforcing anywhere)\n");
	}
	return err ? EXIT_OPS : 0;
}

static const struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
} verbs[] = {
	{ "attach", cmd_attach }, { "detach", cmd_detach }, { "status", cmd_status },
	{ "allow", cmd_allow },   { "revoke", cmd_revoke }, { "flush", cmd_flush },
	{ "list", cmd_list },     { "trust", cmd_trust },   { "ports", cmd_ports },
	{ "stats", cmd_stats },   { "action", cmd_action },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	msg_set_ident("popgatectl: ");
	bpf_log_init();
	/* Global options first ('+' stops at the verb), then the verb's own. */
	while ((c = getopt_long(argc, argv, "+p:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pin_dir = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return usage_error("bad option");
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	pin_dir = gate_pin_dir(pin_dir);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[optind], verbs[i].name) != 0)
			continue;
		argv += optind;
		argc -= optind;
		optind = 1;
		/* --json is also accepted after the verb: "list --json". */
		for (int k = 1; k < argc; k++) {
			if (strcmp(argv[k], "--json") == 0) {
				json = true;
				memmove(&argv[k], &argv[k + 1], (size_t)(argc - k) * sizeof(*argv));
				argc--;
				k--;
			}
		}
		return verbs[i].run(argc, argv);
	}
	return usage_error("unknown command '%s'", argv[optind]);
}
