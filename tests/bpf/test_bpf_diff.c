/*
 * test_bpf_diff.c - differential test of the gate's verdict.
 *
 * Generated frames (pkt_gen) go through both BPF programs with
 * BPF_PROG_TEST_RUN and through gate_model, an independent implementation
 * of the same policy. For every frame the verdict of each program and the
 * gate_stats counter it moved must be the ones the model names. A frame on
 * which they disagree is printed as hex with both answers; --packet HEX
 * runs just that frame again.
 *
 *   test_bpf_diff [--count N] [--seed S] [--start I] [--group G] [--report M]
 *   test_bpf_diff [--start I] --packet HEX
 *
 * Frame I of a seed depends only on (seed, I), and so does the scenario
 * phase it runs in, so "--seed S --start I --count 1" replays one frame of
 * a long run.
 *
 * Counters are read once per group of frames and compared in sum; a group
 * whose sums or verdicts differ runs again one frame at a time to find the
 * frames at fault. (Two wrong frames whose errors cancel exactly in a sum
 * would go unseen: --group 1 reads the counters around every frame.)
 *
 * Besides agreement, the run checks that its frames reached every rule of
 * the model (gate_model.h), so a generator that drifted away from some
 * branch cannot make the test pass.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gate.skel.h"
#include "gate_model.h"
#include "pkt_gen.h"
#include "seen_bits.h"
#include "tap.h"

#define DEFAULT_COUNT 100000
#define DEFAULT_SEED 0x706f7067u
#define DEFAULT_GROUP 64
#define DEFAULT_REPORT 10
#define GROUP_MAX 1024
#define MIN_FRAME 14          /* BPF_PROG_TEST_RUN refuses less than ETH_HLEN */
#define SMALL_MAP 64          /* entries: the scenario needs a handful */
#define HOUR_NS (3600ull * 1000000000ull)
#define PHASE_BLOCK 4096      /* frames in a row that share a phase */
#define COVERAGE_MIN 20000    /* frames below which coverage is not judged */

/* Results beyond the counters: nothing moved, or more than one. */
#define MOVED_NONE GATE_COUNTER_MAX
#define MOVED_SEVERAL (GATE_COUNTER_MAX + 1)
#define MOVED_KINDS (GATE_COUNTER_MAX + 2)
#define RUN_FAILED (-1000)    /* ret values no program returns */
#define RUN_REFUSED (-1001)

/*
 * The scenario. Sources cover every branch of the source decision, alone
 * and combined (authorized and trusted, expired and trusted), plus addresses
 * just outside each trusted prefix. The prefixes are not byte-aligned so the
 * LPM lookup is checked bit by bit.
 */
enum source_state { UNKNOWN, AUTHORIZED, EXPIRED };

static const struct {
	const char *addr;
	enum source_state state;
} sources[] = {
	{ "203.0.113.5", AUTHORIZED },
	{ "203.0.113.6", EXPIRED },
	{ "203.0.113.7", UNKNOWN },
	{ "198.51.100.7", UNKNOWN },      /* trusted: 198.51.100.0/23 */
	{ "198.51.101.8", AUTHORIZED },   /* trusted too */
	{ "198.51.100.9", EXPIRED },      /* trusted too */
	{ "198.51.102.1", UNKNOWN },      /* just past the /23 */
	{ "198.51.99.255", EXPIRED },     /* just before it */
	{ "192.0.2.200", UNKNOWN },       /* trusted: a /32 */
	{ "192.0.2.201", UNKNOWN },
	{ "2001:db8:2::99", AUTHORIZED },
	{ "2001:db8:2::98", EXPIRED },
	{ "2001:db8:2::97", UNKNOWN },
	{ "2001:db8:7::1", UNKNOWN },     /* trusted: 2001:db8:6::/47 */
	{ "2001:db8:6::5", EXPIRED },     /* trusted too */
	{ "2001:db8:7:ffff::1", AUTHORIZED }, /* trusted too */
	{ "2001:db8:8::1", UNKNOWN },     /* just past the /47 */
	{ "2001:db8:5:ffff::1", UNKNOWN },/* just before it */
	{ "::ffff:203.0.113.99", AUTHORIZED }, /* an IPv4 key from IPv6 */
};

static const struct {
	const char *addr;
	unsigned len; /* of the address family's own prefix */
} trusted[] = {
	{ "198.51.100.0", 23 },
	{ "192.0.2.200", 32 },
	{ "2001:db8:6::", 47 },
};

/* Phases run the same generator under different configs, in blocks. */
static const struct phase {
	const char *name;
	unsigned blocks;      /* consecutive PHASE_BLOCKs per cycle */
	__u32 has_trust;
	__u32 nports;
	__u16 ports[GATE_MAX_PORTS];
	bool screen;          /* gate_seen in use (as popgate keeps it: every key's bit) */
} phases[] = {
	{ "trust, ports 25 465 2525", 5, 1, 3, { 25, 465, 2525 }, false },
	/* A full port list, the last one gated at its last slot. */
	{ "no trust, 16 ports", 1, 0, 16,
	  { 25, 465, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 2525 }, false },
	/* The model knows no screen: with it, no verdict may change. */
	{ "trust, ports 25 465 2525, screen", 4, 1, 3, { 25, 465, 2525 }, true },
};

#define SCREEN_SEED 0xd1ffd1ffd1ffd1ffull

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct phase *phase_of(uint64_t index)
{
	unsigned cycle = 0, at;

	for (size_t i = 0; i < NELEM(phases); i++)
		cycle += phases[i].blocks;
	at = (unsigned)((index / PHASE_BLOCK) % cycle);
	for (size_t i = 0;; i++) {
		if (at < phases[i].blocks)
			return &phases[i];
		at -= phases[i].blocks;
	}
}

/*
 * BPF_PROG_TEST_RUN builds an skb for tc and (seen on Linux 6.18; older
 * kernels took them) refuses with EINVAL an untagged IPv4 or IPv6 frame
 * shorter than its fixed IP header. Such a frame can reach tc on a real
 * link, but cannot be tested there: it is compared through XDP only, and
 * counted. Any other refusal fails the test.
 */
static bool skb_test_run_refuses(const __u8 *f, size_t len)
{
	unsigned type = (unsigned)f[12] << 8 | f[13];

	return (type == 0x0800 && len < 14 + 20) || (type == 0x86dd && len < 14 + 40);
}

/* A program under test and what it did to the current group. */
struct prog {
	const char *name;
	int fd;
	int (*expect)(int counter);
	bool (*refuses)(const __u8 *frame, size_t len);
	int ret[GROUP_MAX];
	int moved[GROUP_MAX];
	uint64_t bad_verdict, bad_counter, failed_runs, refused;
	int run_errno;            /* of the last failed test_run */
	/* Wrong frames by [model counter][counter moved]: how many, the
	 * first one and the verdict it got. */
	uint64_t pairs[GATE_COUNTER_MAX][MOVED_KINDS];
	uint64_t first[GATE_COUNTER_MAX][MOVED_KINDS];
	int first_ret[GATE_COUNTER_MAX][MOVED_KINDS];
};

struct group {
	uint64_t first;           /* frame index of frame 0 */
	size_t n;
	size_t len[GROUP_MAX];
	int rule[GROUP_MAX];      /* gate_model's, and its counter: */
	int model[GROUP_MAX];
	__u8 frame[GROUP_MAX][PKT_GEN_MAX];
};

struct run {
	struct gate_bpf *skel;
	int stats_fd, config_fd;
	int ncpus;
	__u64 *percpu;            /* one gate_stats per possible CPU */
	struct gate_model model;
	struct gate_model_auth auth[NELEM(sources)];
	struct gate_prefix trust[NELEM(trusted)];
	struct gate_addr srcs[NELEM(sources)];
	struct prog progs[2];
	const struct phase *phase;
	uint64_t seed, reported, report_max;
	uint64_t rule_hits[GATE_MODEL_RULE_MAX];
};

/* IPv4 becomes ::ffff:a.b.c.d, as in the maps; *bits gets 96 added. */
static int parse_addr(const char *s, struct gate_addr *a, unsigned *bits)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->addr[12]) == 1) {
		a->addr[10] = a->addr[11] = 0xff;
		if (bits)
			*bits += 96;
		return 0;
	}
	return inet_pton(AF_INET6, s, a->addr) == 1 ? 0 : -EINVAL;
}

static int load(struct run *r)
{
	struct bpf_map *m;
	int err;

	r->skel = gate_bpf__open();
	if (!r->skel)
		return -errno;
	bpf_object__for_each_map(m, r->skel->obj) {
		/* A test pins nothing: it must not meet a running popgated. */
		err = bpf_map__set_pin_path(m, NULL);
		if (!err && bpf_map__type(m) != BPF_MAP_TYPE_ARRAY &&
		    bpf_map__type(m) != BPF_MAP_TYPE_PERCPU_ARRAY)
			err = bpf_map__set_max_entries(m, SMALL_MAP);
		if (err)
			return err;
	}
	err = gate_bpf__load(r->skel);
	if (err)
		return err;
	r->stats_fd = bpf_map__fd(r->skel->maps.gate_stats);
	r->config_fd = bpf_map__fd(r->skel->maps.gate_config);
	r->ncpus = libbpf_num_possible_cpus();
	if (r->ncpus <= 0)
		return r->ncpus ? r->ncpus : -EINVAL;
	r->percpu = calloc((size_t)r->ncpus, sizeof(struct gate_stats));
	r->progs[0] = (struct prog){ .name = "xdp", .expect = gate_model_xdp_action,
				     .fd = bpf_program__fd(r->skel->progs.popgate_xdp) };
	r->progs[1] = (struct prog){ .name = "tc", .expect = gate_model_tc_action,
				     .refuses = skb_test_run_refuses,
				     .fd = bpf_program__fd(r->skel->progs.popgate_tc) };
	return r->percpu ? 0 : -ENOMEM;
}

static __u32 screen_log2(const struct run *r)
{
	return 6 + (__u32)__builtin_ctz(bpf_map__max_entries(r->skel->maps.gate_seen));
}

/* The bit of a in gate_seen, set as gate_auth_set() does. */
static int screen_mark(const struct run *r, const struct gate_addr *a)
{
	return seen_bit(bpf_map__fd(r->skel->maps.gate_seen), a, SCREEN_SEED, screen_log2(r), NULL);
}

/* The scenario into the maps and into the model, from the same tables. */
static int fill_scenario(struct run *r)
{
	bool stale_marked = false;
	int err;
	struct timespec ts;
	__u64 now;
	__u8 one = 1;
	size_t na = 0;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	now = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	for (size_t i = 0; i < NELEM(sources); i++) {
		struct gate_model_auth *a = &r->auth[na];

		if (parse_addr(sources[i].addr, &r->srcs[i], NULL))
			return -EINVAL;
		if (sources[i].state == UNKNOWN) {
			/* One unknown source with a bit, as a deleted key leaves it. */
			if (!stale_marked && (err = screen_mark(r, &r->srcs[i])))
				return err;
			stale_marked = true;
			continue;
		}
		if ((err = screen_mark(r, &r->srcs[i])))
			return err;
		a->addr = r->srcs[i];
		/* An hour either side of now, so the run cannot flip an expiry;
		 * a machine up for less than that expired its entries at boot. */
		a->auth.expires_ns = sources[i].state == AUTHORIZED ? now + HOUR_NS :
				     now > HOUR_NS ? now - HOUR_NS : 1;
		a->auth.authorized_ns = a->auth.expires_ns > HOUR_NS ? a->auth.expires_ns - HOUR_NS : 0;
		snprintf(a->auth.user, sizeof(a->auth.user), "user%zu", i);
		if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.gate_auth), &a->addr,
					&a->auth, BPF_NOEXIST))
			return -errno;
		na++;
	}
	for (size_t i = 0; i < NELEM(trusted); i++) {
		struct gate_addr a;
		unsigned bits = trusted[i].len;

		if (parse_addr(trusted[i].addr, &a, &bits))
			return -EINVAL;
		r->trust[i].prefixlen = bits;
		memcpy(r->trust[i].addr, a.addr, sizeof(a.addr));
		if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.gate_trust), &r->trust[i],
					&one, BPF_NOEXIST))
			return -errno;
	}
	r->model = (struct gate_model){
		.auth = r->auth, .nauth = na,
		.trust = r->trust, .ntrust = NELEM(trusted),
		.now_ns = now,
	};
	return 0;
}

static int set_phase(struct run *r, const struct phase *p)
{
	struct gate_config cfg = {
		.magic = GATE_CONFIG_MAGIC,
		.action = GATE_ACTION_DROP,
		.nports = p->nports,
		.has_trust = p->has_trust,
	};
	__u32 zero = 0;

	if (r->phase == p)
		return 0;
	memcpy(cfg.ports, p->ports, sizeof(cfg.ports));
	if (p->screen) {
		cfg.seen_seed = SCREEN_SEED;
		cfg.seen_bits_log2 = screen_log2(r);
	}
	if (bpf_map_update_elem(r->config_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	r->model.cfg = cfg;
	r->phase = p;
	return 0;
}

static int read_stats(struct run *r, __u64 sum[GATE_COUNTER_MAX])
{
	const size_t stride = sizeof(struct gate_stats) / sizeof(__u64);
	__u32 zero = 0;

	if (bpf_map_lookup_elem(r->stats_fd, &zero, r->percpu))
		return -errno;
	memset(sum, 0, GATE_COUNTER_MAX * sizeof(*sum));
	for (int cpu = 0; cpu < r->ncpus; cpu++)
		for (int c = 0; c < GATE_COUNTER_MAX; c++)
			sum[c] += r->percpu[(size_t)cpu * stride + (size_t)c];
	return 0;
}

static int run_frame(struct prog *p, const __u8 *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(p->fd, &o)) {
		p->run_errno = errno;
		return RUN_FAILED;
	}
	return (int)o.retval;
}

/* Which counter moved between two readings. */
static int moved(const __u64 *before, const __u64 *after)
{
	int which = MOVED_NONE;

	for (int c = 0; c < GATE_COUNTER_MAX; c++) {
		__u64 d = after[c] - before[c];

		if (d == 0)
			continue;
		if (d != 1 || which != MOVED_NONE)
			return MOVED_SEVERAL;
		which = c;
	}
	return which;
}

/* Runs the group through p: false when its verdicts or counter sums are
 * not the model's. With one_by_one, p->moved[] says what each frame did. */
static bool run_group(struct run *r, struct prog *p, struct group *g, bool one_by_one)
{
	__u64 before[GATE_COUNTER_MAX], after[GATE_COUNTER_MAX], want[GATE_COUNTER_MAX] = { 0 };
	bool ok = true;

	if (read_stats(r, before))
		return false;
	for (size_t i = 0; i < g->n; i++) {
		if (p->refuses && p->refuses(g->frame[i], g->len[i])) {
			p->ret[i] = RUN_REFUSED;
			p->moved[i] = MOVED_NONE;
			continue;
		}
		p->ret[i] = run_frame(p, g->frame[i], g->len[i]);
		ok &= p->ret[i] == p->expect(g->model[i]);
		want[g->model[i]]++;
		if (one_by_one) {
			if (read_stats(r, after))
				return false;
			p->moved[i] = moved(before, after);
			ok &= p->moved[i] == g->model[i];
			memcpy(before, after, sizeof(before));
		}
	}
	if (one_by_one)
		return ok;
	if (read_stats(r, after))
		return false;
	for (int c = 0; c < GATE_COUNTER_MAX; c++)
		ok &= after[c] - before[c] == want[c];
	return ok;
}

static const char *moved_name(int m)
{
	return m == MOVED_NONE ? "(none)" : m == MOVED_SEVERAL ? "(several)"
							    : gate_model_counter_name(m);
}

static void print_hex(const __u8 *d, size_t len)
{
	printf("#   frame (%zu bytes): ", len);
	for (size_t i = 0; i < len; i++)
		printf("%02x", d[i]);
	printf("\n");
}

/* Tallies each frame of a group run one by one; prints the wrong ones. */
static void judge(struct run *r, struct group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		int want = g->model[i];
		bool bad = false;

		for (size_t k = 0; k < NELEM(r->progs); k++) {
			struct prog *p = &r->progs[k];
			bool verdict_ok = p->ret[i] == p->expect(want);
			bool counter_ok = p->moved[i] == want;

			if (p->ret[i] == RUN_REFUSED) {
				p->refused++;
				continue;
			}
			p->failed_runs += p->ret[i] == RUN_FAILED;
			p->bad_verdict += !verdict_ok;
			p->bad_counter += !counter_ok;
			if (verdict_ok && counter_ok)
				continue;
			bad = true;
			if (!p->pairs[want][p->moved[i]]++) {
				p->first[want][p->moved[i]] = g->first + i;
				p->first_ret[want][p->moved[i]] = p->ret[i];
			}
		}
		if (!bad || r->reported++ >= r->report_max)
			continue;
		printf("# MISMATCH frame %" PRIu64 " (seed %#" PRIx64 ", phase \"%s\"): model %s: %s\n",
		       g->first + i, r->seed, r->phase->name, gate_model_counter_name(want),
		       gate_model_rule_text(g->rule[i]));
		for (size_t k = 0; k < NELEM(r->progs); k++) {
			struct prog *p = &r->progs[k];

			if (p->ret[i] == RUN_REFUSED) {
				printf("#   %-3s not run: test_run refuses this frame\n", p->name);
				continue;
			}
			printf("#   %-3s want %d, program %d%s%s%s, counter %s\n", p->name,
			       p->expect(want), p->ret[i],
			       p->ret[i] == RUN_FAILED ? " (test_run failed: " : "",
			       p->ret[i] == RUN_FAILED ? strerror(p->run_errno) : "",
			       p->ret[i] == RUN_FAILED ? ")" : "",
			       moved_name(p->moved[i]));
		}
		print_hex(g->frame[i], g->len[i]);
	}
}

/* Both programs over the group; one frame at a time only where needed. */
static void check_group(struct run *r, struct group *g, bool one_by_one)
{
	bool ok = true;

	for (size_t i = 0; i < g->n; i++)
		r->rule_hits[g->rule[i]]++;
	for (size_t k = 0; k < NELEM(r->progs); k++)
		ok &= run_group(r, &r->progs[k], g, one_by_one);
	if (!ok && !one_by_one)
		for (size_t k = 0; k < NELEM(r->progs); k++)
			run_group(r, &r->progs[k], g, true);
	if (ok && !one_by_one)
		for (size_t k = 0; k < NELEM(r->progs); k++)
			for (size_t i = 0; i < g->n; i++)
				r->progs[k].moved[i] = g->model[i];
	judge(r, g);
}

static void summarize(const struct run *r, uint64_t frames)
{
	for (size_t k = 0; k < NELEM(r->progs); k++) {
		const struct prog *p = &r->progs[k];

		for (int m = 0; m < GATE_COUNTER_MAX; m++)
			for (int c = 0; c < MOVED_KINDS; c++)
				if (p->pairs[m][c])
					printf("# %s: model %s (%d), program %s (%d): %" PRIu64
					       " frames, first %" PRIu64 "\n", p->name,
					       gate_model_counter_name(m), p->expect(m),
					       moved_name(c), p->first_ret[m][c],
					       p->pairs[m][c], p->first[m][c]);
		if (p->refused)
			printf("# %s: %" PRIu64 " frames not run: shorter than their IP header,"
			       " which test_run refuses\n", p->name, p->refused);
		CHECK(p->failed_runs == 0, "%s: test_run ran all %" PRIu64 " frames (%" PRIu64
		      " failed)", p->name, frames - p->refused, p->failed_runs);
		CHECK(p->bad_verdict == 0, "%s: verdict as the model's on %" PRIu64
		      " frames (%" PRIu64 " differ)", p->name, frames, p->bad_verdict);
		CHECK(p->bad_counter == 0, "%s: counter as the model's on %" PRIu64
		      " frames (%" PRIu64 " differ)", p->name, frames, p->bad_counter);
	}
	/* A generator that stopped reaching a rule would make the test pass
	 * for the wrong reason. Frames under 14 bytes cannot be run at all. */
	for (int rule = 0; rule < GATE_MODEL_RULE_MAX; rule++) {
		const char *text = gate_model_rule_text(rule);
		uint64_t n = r->rule_hits[rule];

		if (rule == GATE_MODEL_ETH_SHORT)
			CHECK(1, "coverage: %s # skip test_run refuses frames under %d bytes",
			      text, MIN_FRAME);
		else if (frames < COVERAGE_MIN)
			CHECK(1, "coverage: %s (%" PRIu64 " frames) # skip fewer than %d frames",
			      text, n, COVERAGE_MIN);
		else
			CHECK(n > 0, "coverage: %s (%" PRIu64 " frames)", text, n);
	}
}

static size_t parse_hex(const char *s, __u8 *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = *s >= '0' && *s <= '9' ? *s - '0' :
			*s >= 'a' && *s <= 'f' ? *s - 'a' + 10 :
			*s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;

		if (v < 0)
			continue; /* spaces, colons: as a hex dump has them */
		if (hi < 0) {
			hi = v;
		} else if (n < max) {
			out[n++] = (__u8)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void usage(const char *me)
{
	fprintf(stderr, "usage: %s [--count N] [--seed S] [--start I] [--group G] [--report M]\n"
			"       %s [--start I] --packet HEX\n", me, me);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "start", required_argument, NULL, 'i' },
		{ "group", required_argument, NULL, 'g' },
		{ "report", required_argument, NULL, 'r' },
		{ "packet", required_argument, NULL, 'p' },
		{ 0 },
	};
	static struct run r;
	static struct group g;
	uint64_t count = DEFAULT_COUNT, start = 0, group = DEFAULT_GROUP;
	const char *packet = NULL;
	struct pkt_gen gen;
	struct timespec t0;
	int o, err;

	r.seed = DEFAULT_SEED;
	r.report_max = DEFAULT_REPORT;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 's': r.seed = strtoull(optarg, NULL, 0); break;
		case 'i': start = strtoull(optarg, NULL, 0); break;
		case 'g': group = strtoull(optarg, NULL, 0); break;
		case 'r': r.report_max = strtoull(optarg, NULL, 0); break;
		case 'p': packet = optarg; break;
		default: usage(argv[0]);
		}
	}
	if (optind != argc || group < 1 || group > GROUP_MAX)
		usage(argv[0]);

	err = load(&r);
	if (err == -EPERM) {
		CHECK(1, "load gate.bpf.o # skip needs CAP_BPF (root)");
		return tap_done();
	}
	if (!CHECK(!err, "load gate.bpf.o with small unpinned maps (%d)", err))
		return tap_done();
	err = fill_scenario(&r);
	if (!CHECK(!err, "scenario in gate_auth, gate_trust (%d)", err))
		return tap_done();
	gen = (struct pkt_gen){ .seed = r.seed, .srcs = r.srcs, .nsrcs = NELEM(sources),
				.min_len = MIN_FRAME };

	if (packet) {
		r.report_max = 1;
		r.reported = 0;
		g.first = start;
		g.n = 1;
		g.len[0] = parse_hex(packet, g.frame[0], PKT_GEN_MAX);
		if (!CHECK(g.len[0] >= MIN_FRAME, "--packet: %zu bytes, at least %d",
			   g.len[0], MIN_FRAME) ||
		    !CHECK(!set_phase(&r, phase_of(start)), "config of phase \"%s\"",
			   phase_of(start)->name))
			return tap_done();
		g.rule[0] = gate_model_rule(&r.model, g.frame[0], g.len[0]);
		g.model[0] = gate_model_rule_counter(g.rule[0]);
		printf("# model: %s: %s\n", gate_model_counter_name(g.model[0]),
		       gate_model_rule_text(g.rule[0]));
		check_group(&r, &g, true);
		for (size_t k = 0; k < NELEM(r.progs); k++)
			CHECK(!r.progs[k].bad_verdict && !r.progs[k].bad_counter,
			      "%s: %d, counter %s", r.progs[k].name, r.progs[k].ret[0],
			      moved_name(r.progs[k].moved[0]));
		return tap_done();
	}

	printf("# seed %#" PRIx64 ", frames %" PRIu64 "..%" PRIu64 ", group %" PRIu64 "\n",
	       r.seed, start, start + count, group);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = start; i < start + count;) {
		const struct phase *ph = phase_of(i);

		if ((err = set_phase(&r, ph))) {
			CHECK(0, "config of phase \"%s\" (%d)", ph->name, err);
			return tap_done();
		}
		/* A group ends where its phase does. */
		g.first = i;
		for (g.n = 0; g.n < group && i < start + count && phase_of(i) == ph; g.n++, i++) {
			g.len[g.n] = pkt_gen_frame(&gen, i, g.frame[g.n]);
			g.rule[g.n] = gate_model_rule(&r.model, g.frame[g.n], g.len[g.n]);
			g.model[g.n] = gate_model_rule_counter(g.rule[g.n]);
		}
		check_group(&r, &g, group == 1);
	}
	double secs = elapsed(&t0);

	printf("# %" PRIu64 " frames in %.2f s: %.0f frames/s through generator, model, xdp and tc\n",
	       count, secs, secs > 0 ? (double)count / secs : 0.0);
	if (r.reported > r.report_max)
		printf("# %" PRIu64 " mismatching frames not printed (--report)\n",
		       r.reported - r.report_max);
	summarize(&r, count);
	gate_bpf__destroy(r.skel);
	free(r.percpu);
	return tap_done();
}
