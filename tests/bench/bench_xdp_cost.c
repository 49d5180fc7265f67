/*
 * bench_xdp_cost - what the gate costs per packet, and what its map costs
 * in kernel memory, measured with BPF_PROG_TEST_RUN.
 *
 *   bench_xdp_cost --pin-dir DIR [--sizes N,N,...] [--trials N]
 *                  [--target-ms MS] [--cpu N] [--json FILE] [--bpftool PATH]
 *                  [--auth-max N]
 *
 * DIR is a private directory on bpffs that must not exist yet. Every map
 * size gets a gate of its own, with its maps in DIR/N created by
 * gate_state_create() and filled by the project's own calls, so that the
 * sizes are measured side by side; DIR is removed at exit (run.sh removes
 * it too if we die). gate_auth gets --auth-max entries at most (default
 * popgate's own default, or the largest --sizes if that is more) at every
 * size: the size, not the fill, sets the hash table's bucket array, hence
 * what a miss touches.
 *
 * For every map size, hot (one frame repeated, everything in cache): every
 * verdict of the gate for IPv4 and IPv6 frames through popgate_xdp, a few
 * through popgate_tc, each as min/median/max over --trials runs of about
 * --target-ms, pinned to one CPU, in ns per packet as test_run reports it
 * (see run_once). All cases of all sizes take turns, one trial each per
 * round (see run_rounds()). "net" is the median of --trials paired
 * differences: each trial of the case is followed by one of an empty
 * program of the same hook on the same frame, so that a change of the
 * shared machine's pace between them moves both (measured apart, a
 * baseline taken 20 s before a case was off by 5-15 ns in a busy spell).
 * Cold: xdp_spray (bench_progs.bpf.c) gives every run a new IPv6 source and
 * tail-calls the gate, so each lookup goes to another bucket of the map;
 * its pair is xdp_spray tail-calling the empty program.
 * Every case is first run once and its verdict and counter checked, so a
 * figure cannot silently measure another path than its name says.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/pkt_cls.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "bench_progs.skel.h"
#include "gate.skel.h"
#include "gate_maps.h"
#include "packet_build.h"

#define MAX_TRIALS 31
#define MAX_SIZES 8
#define FILL_PREFIX "2001:db8:a::"  /* authorized filler, + index */
#define MISS_PREFIX "2001:db8:f00d::" /* never authorized, + index */

static struct {
	const char *pin_dir, *json_path, *bpftool;
	unsigned sizes[MAX_SIZES], nsizes, trials, target_ms, auth_max;
	int cpu;
} opt = { .bpftool = "bpftool", .trials = 9, .target_ms = 120, .cpu = -1,
	  .auth_max = GATE_AUTH_MAX_DEFAULT };

/* A gate with maps of its own, filled to one of --sizes. */
struct gate_set {
	unsigned entries;
	char dir[PATH_MAX];
	struct gate_bpf *gate;
	struct gate_maps maps;
	int trust;                  /* the trust list is set */
	unsigned long long memlock; /* gate_auth's, filled */
	long long slab;             /* Slab growth while filling: others allocate and free
				     * meanwhile, so it may be < 0 */
};

static struct gate_set sets[MAX_SIZES];
static struct bench_progs_bpf *yard;
static FILE *json;
static int json_first = 1;

/* The sources the cases use; the filler and the cold runs use the prefixes. */
static const char *const auth_srcs[] = { "203.0.113.10", "2001:db8:1::10" };
static const char *const expired_srcs[] = { "203.0.113.11", "2001:db8:1::11" };
static const char *const unknown_srcs[] = { "203.0.113.99", "2001:db8:1::99" };
static const char *const trusted_srcs[] = { "198.51.100.7", "2001:db8:100::7" };
static const char *const trusted_nets[] = { "198.51.100.0/24", "2001:db8:100::/64" };
#define NSPECIAL 4 /* authorized + expired, both families */

enum hook { HOOK_XDP, HOOK_TC };
static const char *const hook_names[] = { "xdp", "tc" };

struct gcase {
	const char *name;
	const char *const *srcs; /* by family: [0] IPv4, [1] IPv6 */
	__u16 dport;
	int counter;             /* enum gate_counter it must bump */
	int drop;
	int trust;               /* run with the trust list set */
	int tc;                  /* also through popgate_tc */
};

static const struct gcase cases[] = {
	{ "drop", unknown_srcs, 25, GATE_drop_unauthorized, 1, 0, 1 },
	{ "pass", auth_srcs, 25, GATE_pass_authorized, 0, 0, 1 },
	{ "expired", expired_srcs, 25, GATE_drop_expired, 1, 0, 0 },
	{ "not_gated", unknown_srcs, 110, GATE_not_gated, 0, 0, 0 },
	{ "trusted", trusted_srcs, 25, GATE_pass_trusted, 0, 1, 0 },
	{ "drop_trust_set", unknown_srcs, 25, GATE_drop_unauthorized, 1, 1, 0 },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct stat3 {
	double min, med, max;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The pins outlive us, so they go even on a signal: their paths are made
 * up front, in the order they can be removed (each set's maps, its
 * directory, then DIR), and removing them takes only unlink/rmdir
 * (async-signal-safe). Everything else the kernel frees when our fds close. */
static char pin_paths[MAX_SIZES * (GATE_NMAPS + 1) + 1][PATH_MAX];
static unsigned npins;

static void remove_pins(void)
{
	for (unsigned i = 0; i < npins; i++)
		if (unlink(pin_paths[i]) < 0)
			rmdir(pin_paths[i]);
}

static void cleanup(void)
{
	for (unsigned i = 0; i < opt.nsizes; i++) {
		gate_maps_close(&sets[i].maps);
		gate_bpf__destroy(sets[i].gate);
		sets[i].gate = NULL;
	}
	bench_progs_bpf__destroy(yard);
	yard = NULL;
	remove_pins();
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench_xdp_cost: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1); /* cleanup() runs at exit */
}

static void on_signal(int sig)
{
	(void)sig;
	remove_pins();
	_exit(130);
}

static void parse_addr(const char *s, struct in6_addr *a)
{
	if (addr_parse(s, a))
		die("%s: not an address", s);
}

/* The frame of a case: a SYN (no ACK) from src to dport. */
static void build_frame(struct pkt *p, int fam, const char *src, __u16 dport)
{
	struct pkt_spec s = { .fam = fam, .src = src, .dport = dport, .flags = TH_SYN };

	if (pkt_build(&s, p))
		die("building a frame from %s", src);
}

/*
 * One test_run; returns the kernel's ns per run. Not the wall clock: the
 * kernel's timer stops while the loop yields the CPU (others share this
 * machine), and an XDP test_run has a fixed cost of ~25 ms per call here
 * (setting up and tearing down its rxq) that only a wall clock would see.
 * The kernel reports whole ns; the medians differ by more than that.
 */
static double run_once(int prog_fd, const struct pkt *p, int repeat, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->d, .data_size_in = p->len,
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd, &o);

	if (err)
		die("BPF_PROG_TEST_RUN: %s", strerror(-err));
	if (retval)
		*retval = o.retval;
	return o.duration;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* What a trial runs: prog_fd on p, with xdp_spray's target set first when
 * spray_target >= 0 (see spray_setup()). */
struct runner {
	int prog_fd;
	const struct pkt *p;
	int spray_target;
	const char *spray_prefix;
	unsigned spray_n;
};

static void spray_setup(int target_fd, const char *prefix, unsigned n);

static double runner_run(const struct runner *r, int repeat)
{
	if (r->spray_target >= 0)
		spray_setup(r->spray_target, r->spray_prefix, r->spray_n);
	return run_once(r->prog_fd, r->p, repeat, NULL);
}

/* Repeat count for ~--target-ms per trial, calibrated on a short run. */
static int calibrate(const struct runner *r)
{
	double est = runner_run(r, 100000), want = opt.target_ms * 1e6 / (est > 1 ? est : 1);

	return want < 1000 ? 1000 : want > 5e7 ? 50000000 : (int)want;
}

static double median_of(double *v, unsigned n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Trial i of r into ns[i], and with base, diff[i]: r's trial less the one
 * of base that follows it. */
static void paired_trial(const struct runner *r, int repeat, const struct runner *base,
			 int base_repeat, unsigned i, double *ns, double *diff)
{
	ns[i] = runner_run(r, repeat);
	if (base)
		diff[i] = ns[i] - runner_run(base, base_repeat);
}

/* min/median/max of --trials trials, and *net the median of the paired
 * differences (when there are any). Sorts both arrays. */
static struct stat3 trial_stats(double *ns, double *diff, double *net)
{
	struct stat3 s;

	if (diff)
		*net = median_of(diff, opt.trials);
	s.med = median_of(ns, opt.trials);
	s.min = ns[0];
	s.max = ns[opt.trials - 1];
	return s;
}

static __u64 counter_sum(const struct gate_set *gs, int counter)
{
	struct gate_stats st;
	int err = gate_stats_read(&gs->maps, &st);

	if (err)
		die("reading gate_stats: %s", strerror(-err));
	return ((__u64 *)&st)[counter];
}

/* Run a case once and check it takes the path its name says. */
static void check_case(const struct gate_set *gs, const struct gcase *c, enum hook h, int prog_fd,
		       const struct pkt *p)
{
	int want_ret = h == HOOK_XDP ? (c->drop ? XDP_DROP : XDP_PASS)
				     : (c->drop ? TC_ACT_SHOT : TC_ACT_UNSPEC);
	__u64 before = counter_sum(gs, c->counter);
	__u32 ret;

	run_once(prog_fd, p, 1, &ret);
	if ((int)ret != want_ret || counter_sum(gs, c->counter) != before + 1)
		die("%u entries, case %s/%s: verdict %d (want %d) or counter %s not bumped: "
		    "the figure would measure another path", gs->entries, hook_names[h], c->name,
		    (int)ret, want_ret, gate_counter_names[c->counter]);
}

static void json_sep(void)
{
	fputs(json_first ? "\n    " : ",\n    ", json);
	json_first = 0;
}

static void report(unsigned entries, const char *kind, enum hook h, const char *name,
		   const char *fam, struct stat3 s, double net)
{
	printf("%8u  %-4s %-5s %-15s %-4s %7.1f %7.1f %7.1f %7.1f\n", entries, kind,
	       hook_names[h], name, fam, s.min, s.med, s.max, net);
	if (json) {
		json_sep();
		fprintf(json, "{\"entries\": %u, \"kind\": \"%s\", \"hook\": \"%s\", "
			"\"case\": \"%s\", \"family\": \"%s\", \"min_ns\": %.2f, "
			"\"median_ns\": %.2f, \"max_ns\": %.2f, \"net_ns\": %.2f}",
			entries, kind, hook_names[h], name, fam, s.min, s.med, s.max, net);
	}
}

static void set_trust(struct gate_set *gs, int on)
{
	if (gs->trust == on)
		return;
	for (int f = 0; f < 2; f++) {
		struct in6_addr a;
		unsigned plen;
		int err;

		if (prefix_parse(trusted_nets[f], &a, &plen))
			die("%s: bad prefix", trusted_nets[f]);
		err = on ? gate_trust_add(&gs->maps, &a, plen) : gate_trust_del(&gs->maps, &a, plen);
		if (err)
			die("trust %s %s: %s", on ? "add" : "del", trusted_nets[f], strerror(-err));
	}
	gs->trust = on;
}

/* xdp_spray's next runs: n sources of prefix, tail-calling target_fd. */
static void spray_setup(int target_fd, const char *prefix, unsigned n)
{
	struct in6_addr a;
	__u32 zero = 0;

	parse_addr(prefix, &a);
	if (bpf_map_update_elem(bpf_map__fd(yard->maps.target), &zero, &target_fd, BPF_ANY))
		die("prog array update: %s", strerror(errno));
	memcpy(yard->bss->spray_prefix, a.s6_addr, sizeof(yard->bss->spray_prefix));
	yard->data->spray_n = n;
	yard->bss->spray_count = 0;
}

/* One case of one set: its runner on its frame, each trial followed by
 * one of its baseline if it has one, and its trials so far. */
struct slot {
	struct gate_set *set;
	const char *kind, *name;
	enum hook h;
	int fam6;
	int trust; /* run with the trust list set */
	struct pkt p;
	struct runner r, base;
	int paired, repeat, base_repeat;
	double ns[MAX_TRIALS], diff[MAX_TRIALS];
};

/* A set's slots: the two empty programs, the hot cases (at most both hooks
 * and families each), the cold reference, pass and drop. */
#define SET_SLOTS (2 + NCASES * 2 * 2 + 3)
static struct slot slots[MAX_SIZES * SET_SLOTS];
static unsigned nslots;

static struct slot *slot_new(struct gate_set *gs, const char *kind, const char *name,
			     enum hook h, int fam6, int trust)
{
	struct slot *sl = &slots[nslots++];

	*sl = (struct slot){ .set = gs, .kind = kind, .name = name, .h = h, .fam6 = fam6,
			     .trust = trust };
	return sl;
}

/* The slot's runners, on its frame, and their repeat counts. */
static void slot_calibrate(struct slot *sl, struct runner r, const struct runner *base)
{
	set_trust(sl->set, sl->trust);
	sl->r = r;
	sl->r.p = &sl->p;
	sl->repeat = calibrate(&sl->r);
	if (base) {
		sl->base = *base;
		sl->base.p = &sl->p;
		sl->base_repeat = calibrate(&sl->base);
		sl->paired = 1;
	}
}

/* Hot: the empty programs alone (for the record, net 0 by definition), then
 * every case, those with the trust list last. */
static void hot_slots(struct gate_set *gs)
{
	int fds[] = { bpf_program__fd(gs->gate->progs.popgate_xdp),
		      bpf_program__fd(gs->gate->progs.popgate_tc) };
	int empty[] = { bpf_program__fd(yard->progs.xdp_empty),
			bpf_program__fd(yard->progs.tc_empty) };

	for (int h = 0; h < 2; h++) {
		struct slot *sl = slot_new(gs, "hot", "empty", h, 0, 0);

		build_frame(&sl->p, 4, unknown_srcs[0], 25);
		slot_calibrate(sl, (struct runner){ empty[h], NULL, -1, NULL, 0 }, NULL);
	}
	for (int trust = 0; trust < 2; trust++)
		for (size_t i = 0; i < NCASES; i++)
			for (int h = 0; h < 2; h++)
				for (int f = 0; f < 2; f++) {
					const struct gcase *c = &cases[i];
					struct slot *sl;

					if (c->trust != trust || (h == HOOK_TC && !c->tc))
						continue;
					sl = slot_new(gs, "hot", c->name, h, f, trust);
					build_frame(&sl->p, f ? 6 : 4, c->srcs[f], c->dport);
					set_trust(gs, trust);
					check_case(gs, c, h, fds[h], &sl->p);
					slot_calibrate(sl, (struct runner){ fds[h], NULL, -1, NULL, 0 },
						       &(struct runner){ empty[h], NULL, -1, NULL, 0 });
				}
}

/* Cold: xdp_spray in front of the gate, over the set's filler (pass) or
 * over sources never authorized (drop), against xdp_spray in front of the
 * empty program. */
static void cold_slots(struct gate_set *gs)
{
	int spray_fd = bpf_program__fd(yard->progs.xdp_spray),
	    gate_fd = bpf_program__fd(gs->gate->progs.popgate_xdp),
	    empty_fd = bpf_program__fd(yard->progs.xdp_empty);
	unsigned n = gs->entries - NSPECIAL;
	struct runner ref = { spray_fd, NULL, empty_fd, MISS_PREFIX, n },
		      pass = { spray_fd, NULL, gate_fd, FILL_PREFIX, n },
		      drop = { spray_fd, NULL, gate_fd, MISS_PREFIX, n };
	struct slot *sl;
	struct pkt p;
	__u32 ret;

	/* xdp_spray rewrites the source: one frame serves all three. */
	build_frame(&p, 6, FILL_PREFIX "1", 25);
	/* Check the sprayed frames take the paths named (a pass is a hit). */
	spray_setup(gate_fd, FILL_PREFIX, n);
	run_once(spray_fd, &p, 1, &ret);
	if (ret != XDP_PASS)
		die("%u entries, cold pass: verdict %u: the sprayed sources are not authorized",
		    gs->entries, ret);
	sl = slot_new(gs, "cold", "spray+empty", HOOK_XDP, 1, 0);
	sl->p = p;
	slot_calibrate(sl, ref, NULL);
	sl = slot_new(gs, "cold", "pass", HOOK_XDP, 1, 0);
	sl->p = p;
	slot_calibrate(sl, pass, &ref);
	sl = slot_new(gs, "cold", "drop", HOOK_XDP, 1, 0);
	sl->p = p;
	slot_calibrate(sl, drop, &ref);
}

/*
 * The trials in rounds: round i runs trial i of every slot of every set.
 * The shared machine has slow spells of 30-60 s here; measured one size
 * after another, a spell made one size's column slow, even `not gated`,
 * which reads no map (9 -> 17 ns). Taking turns, it lands on a round or
 * two of every case of every size, and the medians leave it out unless it
 * lasts most of the run.
 */
static void run_rounds(void)
{
	for (unsigned round = 0; round < opt.trials; round++)
		for (unsigned i = 0; i < nslots; i++) {
			struct slot *sl = &slots[i];

			set_trust(sl->set, sl->trust);
			paired_trial(&sl->r, sl->repeat, sl->paired ? &sl->base : NULL,
				     sl->base_repeat, round, sl->ns, sl->diff);
		}
}

static void report_slots(void)
{
	for (unsigned i = 0; i < nslots; i++) {
		struct slot *sl = &slots[i];
		double net = 0;
		struct stat3 st = trial_stats(sl->ns, sl->paired ? sl->diff : NULL, &net);

		report(sl->set->entries, sl->kind, sl->h, sl->name, sl->fam6 ? "v6" : "v4", st, net);
	}
}

/* The kernel's own account of the map's memory (fdinfo "memlock"). */
static unsigned long long map_memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static unsigned long long slab_bytes(void)
{
	char line[256];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* The case sources, then filler entries until the map holds the set's
 * size, then the screen sized for them as popgated's next sweep would. */
static void fill(struct gate_set *gs)
{
	struct in6_addr a;
	int err = 0;

	for (int f = 0; f < 2 && !err; f++) {
		parse_addr(auth_srcs[f], &a);
		err = gate_auth_set(&gs->maps, &a, 3600, "bench");
		parse_addr(expired_srcs[f], &a);
		/* A window of 0 s expires the instant it is written. */
		err = err ? err : gate_auth_set(&gs->maps, &a, 0, "bench");
	}
	if (err)
		die("authorizing the case sources: %s", strerror(-err));
	parse_addr(FILL_PREFIX, &a);
	for (__u32 idx = 0; idx < gs->entries - NSPECIAL; idx++) {
		a.s6_addr[12] = idx >> 24;
		a.s6_addr[13] = idx >> 16;
		a.s6_addr[14] = idx >> 8;
		a.s6_addr[15] = idx;
		err = gate_auth_set(&gs->maps, &a, 3600, "bench");
		if (err)
			die("authorizing filler %u: %s", idx, strerror(-err));
	}
	err = gate_seen_resize_due(&gs->maps, gs->entries);
	if (err > 0)
		err = gate_seen_rebuild(&gs->maps);
	if (err < 0)
		die("sizing the screen for %u entries: %s", gs->entries, strerror(-err));
}

/* Is the gate_auth lookup inlined by the verifier? Count both forms in
 * bpftool's dump of the translated program. */
static void inline_check(void)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	char cmd[512], line[512];
	int inlined = 0, called = 0;
	FILE *f;

	if (bpf_obj_get_info_by_fd(bpf_program__fd(sets[0].gate->progs.popgate_xdp), &info, &len))
		die("prog info: %s", strerror(errno));
	snprintf(cmd, sizeof(cmd), "%s prog dump xlated id %u 2>/dev/null", opt.bpftool, info.id);
	f = popen(cmd, "r");
	if (!f)
		die("%s: %s", cmd, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "call __htab_map_lookup_elem"))
			inlined++;
		else if (strstr(line, "call htab_map_lookup_elem"))
			called++;
	}
	if (pclose(f) != 0)
		die("%s failed", cmd);
	printf("hash lookup in popgate_xdp (bpftool prog dump xlated): %d inlined "
	       "(__htab_map_lookup_elem), %d not inlined (htab_map_lookup_elem)\n", inlined, called);
	if (json)
		fprintf(json, "  \"htab_lookup_inlined\": %d,\n  \"htab_lookup_called\": %d,\n",
			inlined, called);
}

static void parse_sizes(const char *s)
{
	char *end;

	opt.nsizes = 0;
	do {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v <= NSPECIAL || v > GATE_AUTH_MAX_DEFAULT * 4ul ||
		    opt.nsizes == MAX_SIZES || (opt.nsizes && v <= opt.sizes[opt.nsizes - 1]))
			die("--sizes: increasing counts above %d, at most %d of them",
			    NSPECIAL, MAX_SIZES);
		opt.sizes[opt.nsizes++] = (unsigned)v;
		s = end + (*end == ',');
	} while (*end);
}

/* Record a path for remove_pins(), in the order it can be removed. */
static void pin_path_add(const char *dir, const char *name)
{
	char *p = pin_paths[npins++];
	int n = name ? gate_pin_path(p, PATH_MAX, dir, name) : snprintf(p, PATH_MAX, "%s", dir);

	if (n < 0 || n >= PATH_MAX)
		die("%s: path too long", dir);
}

/* A gate of its own for every size, its maps in DIR/N. */
static void setup(void)
{
	unsigned largest = opt.sizes[opt.nsizes - 1];
	unsigned max = largest > opt.auth_max ? largest : opt.auth_max;
	cpu_set_t set;
	struct stat st;

	for (unsigned i = 0; i < opt.nsizes; i++)
		sets[i] = (struct gate_set){ .entries = opt.sizes[i],
					     .maps = { .auth_fd = -1, .trust_fd = -1, .config_fd = -1,
						       .stats_fd = -1, .seen_fd = -1, .lock_fd = -1 } };
	CPU_ZERO(&set);
	CPU_SET(opt.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("pinning to CPU %d: %s", opt.cpu, strerror(errno));
	if (stat(opt.pin_dir, &st) == 0)
		die("%s exists: give a pin dir of our own, it is removed at exit", opt.pin_dir);
	for (unsigned i = 0; i < opt.nsizes; i++) {
		if (snprintf(sets[i].dir, sizeof(sets[i].dir), "%s/%u", opt.pin_dir,
			     sets[i].entries) >= (int)sizeof(sets[i].dir))
			die("%s: path too long", opt.pin_dir);
		for (size_t m = 0; m < GATE_NMAPS; m++)
			pin_path_add(sets[i].dir, gate_map_names[m]);
		pin_path_add(sets[i].dir, NULL);
	}
	pin_path_add(opt.pin_dir, NULL);
	/* From here on cleanup() (or a signal) removes the pin dir. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, on_signal); /* the reader of our output went away */
	if (gate_pin_dir_prepare(opt.pin_dir))
		die("creating %s", opt.pin_dir);
	for (unsigned i = 0; i < opt.nsizes; i++) {
		LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = sets[i].dir);
		struct gate_set *gs = &sets[i];

		if (gate_state_create(gs->dir, max))
			die("creating the gate's maps in %s", gs->dir);
		gs->gate = gate_bpf__open_opts(&oo);
		/* libbpf reuses a pinned map only if its definition matches. */
		if (!gs->gate || bpf_map__set_max_entries(gs->gate->maps.gate_auth, max) ||
		    gate_bpf__load(gs->gate))
			die("loading the gate over the maps in %s", gs->dir);
		if (gate_maps_open(&gs->maps, gs->dir))
			die("opening the maps in %s", gs->dir);
	}
	yard = bench_progs_bpf__open_and_load();
	if (!yard)
		die("loading bench_progs: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pin-dir", 1, 0, 'p' }, { "sizes", 1, 0, 's' }, { "trials", 1, 0, 't' },
		{ "target-ms", 1, 0, 'm' }, { "cpu", 1, 0, 'c' }, { "json", 1, 0, 'j' },
		{ "bpftool", 1, 0, 'b' }, { "auth-max", 1, 0, 'a' }, { 0 },
	};
	unsigned long long memlock0;
	__u32 cap;
	int o, bad = 0;

	parse_sizes("1000,100000,1000000");
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'p': opt.pin_dir = optarg; break;
		case 's': parse_sizes(optarg); break;
		case 't': opt.trials = atoi(optarg); break;
		case 'm': opt.target_ms = atoi(optarg); break;
		case 'c': opt.cpu = atoi(optarg); break;
		case 'j': opt.json_path = optarg; break;
		case 'b': opt.bpftool = optarg; break;
		case 'a': opt.auth_max = (unsigned)strtoul(optarg, NULL, 10); break;
		default: bad = 1; break;
		}
	}
	if (bad || !opt.pin_dir || optind != argc || opt.trials < 1 || opt.trials > MAX_TRIALS ||
	    opt.target_ms < 1 || opt.auth_max < 1) {
		fprintf(stderr, "usage: bench_xdp_cost --pin-dir DIR [--sizes N,N,...] "
			"[--trials 1-%d] [--target-ms MS] [--cpu N] [--json FILE] "
			"[--bpftool PATH] [--auth-max N]\n", MAX_TRIALS);
		return 2;
	}
	if (opt.cpu < 0)
		opt.cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	atexit(cleanup);
	libbpf_set_print(NULL);
	setup();
	if (opt.json_path) {
		json = fopen(opt.json_path, "w");
		if (!json)
			die("%s: %s", opt.json_path, strerror(errno));
		fprintf(json, "{\n  \"cpu\": %d,\n  \"trials\": %u,\n  \"target_ms\": %u,\n",
			opt.cpu, opt.trials, opt.target_ms);
	}
	inline_check();
	if (gate_auth_capacity(&sets[0].maps, &cap))
		die("reading gate_auth's size");
	if (json)
		fprintf(json, "  \"auth_max_entries\": %u,\n", cap);

	memlock0 = map_memlock(sets[0].maps.auth_fd);
	for (unsigned i = 0; i < opt.nsizes; i++) {
		unsigned long long slab0 = slab_bytes();

		fill(&sets[i]);
		/* Read before the cases run: nothing else of ours allocates in between. */
		sets[i].memlock = map_memlock(sets[i].maps.auth_fd);
		sets[i].slab = (long long)(slab_bytes() - slab0);
	}
	for (unsigned i = 0; i < opt.nsizes; i++) {
		hot_slots(&sets[i]);
		cold_slots(&sets[i]);
	}
	run_rounds();
	printf("\n%8s  %-4s %-5s %-15s %-4s %7s %7s %7s %7s   (ns per packet)\n", "entries",
	       "kind", "hook", "case", "fam", "min", "median", "max", "net");
	if (json)
		fputs("  \"cases\": [", json);
	report_slots();
	if (json)
		fprintf(json, "\n  ],\n  \"memory_empty_memlock_bytes\": %llu,\n"
			"  \"screen_memlock_bytes\": %llu,\n  \"memory\": [",
			memlock0, map_memlock(sets[opt.nsizes - 1].maps.seen_fd));
	json_first = 1;
	printf("\ngate_auth kernel memory (memlock: the map's own account, fdinfo; slab: "
	       "/proc/meminfo Slab growth, noisy)\n%8s %14s %10s %16s %10s\n", "entries",
	       "memlock (B)", "B/entry", "slab delta (B)", "B/entry");
	printf("%8u %14llu\n", 0u, memlock0);
	for (unsigned i = 0; i < opt.nsizes; i++) {
		const struct gate_set *gs = &sets[i];

		printf("%8u %14llu %10.1f %16lld %10.1f\n", gs->entries, gs->memlock,
		       (double)gs->memlock / gs->entries, gs->slab, (double)gs->slab / gs->entries);
		if (json) {
			json_sep();
			fprintf(json, "{\"entries\": %u, \"memlock_bytes\": %llu, "
				"\"slab_delta_bytes\": %lld}", gs->entries, gs->memlock, gs->slab);
		}
	}
	if (json) {
		fputs("\n  ]\n}\n", json);
		fclose(json);
	}
	printf("gate_seen (the screen, fixed by max_entries %u): %llu B\n", cap,
	       map_memlock(sets[opt.nsizes - 1].maps.seen_fd));
	return 0; /* cleanup() runs at exit */
}
