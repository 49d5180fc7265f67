/*
 * test_bpf_seen.c - the screen's contract under concurrency: a key that
 * gate_auth_set() inserted is never hidden by a gate_seen rebuild running
 * at the same time in another process, and the gate passes it.
 *
 * A private pin dir (/sys/fs/bpf/pgt-seen-PID, removed at exit) holds a
 * small state made by gate_state_create(). A child process rebuilds the
 * screen in a loop (gate_seen_rebuild(), as popgated's sweeper and
 * popgatectl flush do) while the parent authorizes distinct addresses one
 * by one and, after each, reads the key's bit through its own mapping; then
 * every key goes through the real popgate_xdp (skeleton on the pinned
 * maps). A revoked half must be refused whatever bits remain, and a last
 * rebuild must leave no more bits than keys. Without the pin-dir lock in
 * gate_auth_set() the first check fails within a few hundred keys.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gate.h"
#include "gate.skel.h"
#include "gate_maps.h"
#include "packet_build.h"
#include "seen_bits.h"
#include "tap.h"

#define KEYS 2000
#define MAX_ENTRIES 4096
#define REBUILDS_MAX 100000 /* the child stops at this or when told */

static char pin_dir[64];

static void remove_pins(void)
{
	char path[128];

	for (size_t i = 0; i < GATE_NMAPS; i++)
		if (!gate_pin_path(path, sizeof(path), pin_dir, gate_map_names[i]))
			unlink(path);
	rmdir(pin_dir);
}

static void key_of(unsigned i, struct in6_addr *a, char *text, size_t len)
{
	snprintf(text, len, "2001:db8:5ee::%x:%x", i >> 16, i & 0xffff);
	inet_pton(AF_INET6, text, a);
}

/* The key's bit as the program reads it (an error counts as clear). */
static bool bit_set(const struct gate_maps *m, const struct gate_config *c,
		    const struct in6_addr *a)
{
	struct gate_addr k;
	bool bit = false;

	memcpy(k.addr, a->s6_addr, sizeof(k.addr));
	return !seen_bit(m->seen_fd, &k, c->seen_seed, c->seen_bits_log2, &bit) && bit;
}

/* The child: rebuild until the parent's signal, or REBUILDS_MAX. */
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int rebuilder(void)
{
	struct gate_maps m;
	int n = 0;

	signal(SIGTERM, on_term);
	if (gate_maps_open(&m, pin_dir))
		return 2;
	while (!stop && n < REBUILDS_MAX) {
		if (gate_seen_rebuild(&m))
			return 3;
		n++;
	}
	gate_maps_close(&m);
	/* How many ran, for the parent to show: at least one must have. */
	return n > 0 ? 0 : 4;
}

/* The gate's verdict counter for a SYN from text to port 25. */
static int verdict(int prog_fd, int stats_fd, const char *text)
{
	struct pkt_spec s = { .fam = 6, .src = text, .flags = TH_SYN, .dport = 25 };
	static struct pkt p;
	static __u8 out[PKT_MAX];
	int ncpu = libbpf_num_possible_cpus();
	struct gate_stats before[ncpu > 0 ? ncpu : 1], after[ncpu > 0 ? ncpu : 1];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_out = out, .data_size_out = sizeof(out),
		    .repeat = 1);
	__u32 zero = 0;

	if (ncpu <= 0 || pkt_build(&s, &p))
		return -EINVAL;
	o.data_in = p.d;
	o.data_size_in = (__u32)p.len;
	if (bpf_map_lookup_elem(stats_fd, &zero, before) || bpf_prog_test_run_opts(prog_fd, &o) ||
	    bpf_map_lookup_elem(stats_fd, &zero, after))
		return -errno;
	for (int c = 0; c < GATE_COUNTER_MAX; c++) {
		__u64 d = 0;

		for (int cpu = 0; cpu < ncpu; cpu++)
			d += ((__u64 *)&after[cpu])[c] - ((__u64 *)&before[cpu])[c];
		if (d)
			return c;
	}
	return -ENOENT;
}

int main(void)
{
	static struct in6_addr keys[KEYS];
	static char texts[KEYS][48];
	struct gate_bpf *skel = NULL;
	struct gate_config c;
	struct gate_maps m;
	unsigned hidden = 0, refused = 0, passed = 0, first_hidden = KEYS;
	uint64_t bits, total;
	pid_t child;
	int status, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/pgt-seen-%d", (int)getpid());
	atexit(remove_pins);
	err = gate_state_create(pin_dir, MAX_ENTRIES);
	if (!err)
		err = gate_maps_open(&m, pin_dir);
	if (!err)
		err = gate_config_get(&m, &c);
	if (!CHECK(!err && gate_seen_on(&c), "state in %s with the screen on (%s)", pin_dir,
		   err ? strerror(-err) : "ok"))
		return tap_done();

	/* The gate, on these very maps. */
	skel = gate_bpf__open();
	err = skel ? gate_skel_use_maps(skel, pin_dir, &m) : -errno;
	if (!err) {
		bpf_program__set_autoload(skel->progs.popgate_tc, false);
		err = gate_bpf__load(skel);
	}
	if (!CHECK(!err, "popgate_xdp loaded on the pinned maps (%s)", err ? strerror(-err) : "ok")) {
		gate_bpf__destroy(skel);
		return tap_done();
	}

	child = fork();
	if (child == 0)
		_exit(rebuilder());
	if (!CHECK(child > 0, "rebuilding process started"))
		return tap_done();

	for (unsigned i = 0; i < KEYS; i++) {
		key_of(i, &keys[i], texts[i], sizeof(texts[i]));
		err = gate_auth_set(&m, &keys[i], 600, "seen");
		if (err)
			break;
		if (!bit_set(&m, &c, &keys[i]) && hidden++ == 0)
			first_hidden = i;
		/* And later: every key so far, now and then. */
		if (i % 250 == 249)
			for (unsigned j = 0; j <= i; j++)
				hidden += !bit_set(&m, &c, &keys[j]);
	}
	kill(child, SIGTERM);
	waitpid(child, &status, 0);
	CHECK(!err, "%d addresses authorized while the other process rebuilt (%s)", KEYS,
	      err ? strerror(-err) : "ok");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the other process rebuilt the screen without error (status %d)", status);
	CHECK(!hidden, "no key ever without its bit (%u misses, the first at key %u)", hidden,
	      first_hidden);

	for (unsigned i = 0; i < KEYS; i++)
		passed += verdict(bpf_program__fd(skel->progs.popgate_xdp),
				  bpf_map__fd(skel->maps.gate_stats), texts[i]) == GATE_pass_authorized;
	CHECK(passed == KEYS, "the gate passes every key's SYN (%u of %u)", passed, KEYS);

	/* Revoked keys keep their bits until a rebuild, and are refused. */
	for (unsigned i = 0; i < KEYS; i += 2)
		err = err ?: gate_auth_del(&m, &keys[i]);
	for (unsigned i = 0; i < KEYS; i += 2)
		refused += verdict(bpf_program__fd(skel->progs.popgate_xdp),
				   bpf_map__fd(skel->maps.gate_stats), texts[i]) ==
			   GATE_drop_unauthorized;
	CHECK(!err && refused == KEYS / 2, "revoked keys refused (%u of %u)", refused, KEYS / 2);
	err = gate_seen_rebuild(&m) ?: gate_seen_count(&m, &bits, &total);
	CHECK(!err && bits <= KEYS / 2 && bits >= KEYS / 2 - 64,
	      "a rebuild sheds the revoked keys' bits (%llu set for %u keys, of %llu)",
	      (unsigned long long)bits, KEYS / 2, (unsigned long long)total);
	passed = 0;
	for (unsigned i = 1; i < KEYS; i += 2)
		passed += verdict(bpf_program__fd(skel->progs.popgate_xdp),
				  bpf_map__fd(skel->maps.gate_stats), texts[i]) == GATE_pass_authorized;
	CHECK(passed == KEYS / 2, "the others still pass after it (%u of %u)", passed, KEYS / 2);

	gate_bpf__destroy(skel);
	gate_maps_close(&m);
	return tap_done();
}
