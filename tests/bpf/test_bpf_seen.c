/*
 * test_bpf_seen.c - the screen's contract: a key that gate_auth_set()
 * inserted is never hidden from the gate, whatever rebuilds and resizes of
 * gate_seen run at the same time in another process.
 *
 * A private pin dir (/sys/fs/bpf/pgt-seen-PID, removed at exit) holds a
 * state made by gate_state_create() with room for 65,536 keys (a screen of
 * at most 2^19 bits, 2^16 in use at first). Keys go through the real
 * popgate_xdp (skeleton on the pinned maps).
 *  1. A child process rebuilds the screen in a loop (gate_seen_rebuild(),
 *     as popgated's sweeper and popgatectl flush do) while the parent
 *     authorizes distinct addresses one by one and, after each, reads the
 *     key's bit through its own mapping; then every key passes the gate. A
 *     revoked half must be refused whatever bits remain, and a last rebuild
 *     must leave no more bits than keys. Without the pin-dir lock in
 *     gate_auth_set() the bit check fails within a few hundred keys.
 *  2. Sizes: the rebuild sizes the screen for the keys present (16 bits a
 *     key, at least 2^16, at most the capacity), keeps a size from 8 to 64
 *     bits a key, and leaves no bit outside the size in use.
 *  3. A resize whose wait for running programs the kernel refuses (a
 *     seccomp filter fails membarrier(2)) leaves every key's bit set at the
 *     old size and at the new one, so a program still hashing with the old
 *     size passes it too.
 *  4. The child rebuilds in a loop while the parent adds and removes 9,500
 *     keys again and again, so that the size changes under the program,
 *     which must pass a fixed set of keys every time.
 *  5. A rebuild in steps (as popgated runs it, one slice per turn of its
 *     loop): keys the same process inserts between steps, into buckets the
 *     walk has passed, keep their bits; another process's insert waits for
 *     the last step; an aborted rebuild leaves the screen as it was.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"
#include "gate.skel.h"
#include "gate_maps.h"
#include "packet_build.h"
#include "seen_bits.h"
#include "tap.h"

#define KEYS 2000
#define MAX_ENTRIES 65536       /* a screen of 2^19 bits at most */
#define CAP_LOG2 19
#define MIN_LOG2 16
#define FILL 10000              /* 2^18 bits at 16 a key */
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

/* The child: rebuild until the parent's signal, or REBUILDS_MAX, pausing
 * pause_us between rebuilds (flock is not fair: back to back, they could
 * starve the parent's inserts). */
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int rebuilder(unsigned pause_us)
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
		if (pause_us)
			usleep(pause_us);
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

static struct gate_maps m;
static struct gate_bpf *skel;

static int verdict_of(const char *text)
{
	return verdict(bpf_program__fd(skel->progs.popgate_xdp), bpf_map__fd(skel->maps.gate_stats),
		       text);
}

/* The size of the screen in use, log2; 0 when it is off or unreadable. */
static unsigned size_log2(struct gate_config *c)
{
	return gate_config_get(&m, c) || !gate_seen_on(c) ? 0 : c->seen_bits_log2;
}

/* Bits set in the words beyond the first 2^k bits (never read at that size). */
static unsigned long bits_beyond(unsigned k)
{
	unsigned long n = 0;

	for (size_t i = ((size_t)1 << k) / 64; i < m.seen_len / sizeof(*m.seen); i++)
		n += (unsigned long)__builtin_popcountll(m.seen[i]);
	return n;
}

/* Fillers j in [from, to): 2001:db8:5ee::1:j, authorized or revoked. */
static int fillers(unsigned from, unsigned to, bool add)
{
	struct in6_addr a;
	char text[48];
	int err = 0;

	for (unsigned j = from; j < to && !err; j++) {
		key_of(0x10000 + j, &a, text, sizeof(text));
		err = add ? gate_auth_set(&m, &a, 600, "fill") : gate_auth_del(&m, &a);
	}
	return err;
}

/* Keys (the odd ones of part 1 and fillers [0, nfill)) without their bit. */
static unsigned missing_bits(const struct gate_config *c, const struct in6_addr *keys,
			     unsigned nfill)
{
	struct in6_addr a;
	char text[48];
	unsigned n = 0;

	for (unsigned i = 1; i < KEYS; i += 2)
		n += !bit_set(&m, c, &keys[i]);
	for (unsigned j = 0; j < nfill; j++) {
		key_of(0x10000 + j, &a, text, sizeof(text));
		n += !bit_set(&m, c, &a);
	}
	return n;
}

/* 1. Inserts against a rebuilding process; revokes; the rebuild sheds them. */
static void part_inserts(struct in6_addr *keys, char (*texts)[48])
{
	unsigned hidden = 0, refused = 0, passed = 0, first_hidden = KEYS;
	struct gate_config c;
	uint64_t bits, total;
	pid_t child;
	int status, err = 0;

	gate_config_get(&m, &c);
	child = fork();
	if (child == 0)
		_exit(rebuilder(100));
	if (!CHECK(child > 0, "rebuilding process started"))
		exit(tap_done());

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
		passed += verdict_of(texts[i]) == GATE_pass_authorized;
	CHECK(passed == KEYS, "the gate passes every key's SYN (%u of %u)", passed, KEYS);

	/* Revoked keys keep their bits until a rebuild, and are refused. */
	for (unsigned i = 0; i < KEYS; i += 2)
		err = err ?: gate_auth_del(&m, &keys[i]);
	for (unsigned i = 0; i < KEYS; i += 2)
		refused += verdict_of(texts[i]) == GATE_drop_unauthorized;
	CHECK(!err && refused == KEYS / 2, "revoked keys refused (%u of %u)", refused, KEYS / 2);
	err = gate_seen_rebuild(&m) ?: gate_seen_count(&m, &bits, &total);
	CHECK(!err && bits <= KEYS / 2 && bits >= KEYS / 2 - 64,
	      "a rebuild sheds the revoked keys' bits (%llu set for %u keys, of %llu)",
	      (unsigned long long)bits, KEYS / 2, (unsigned long long)total);
	passed = 0;
	for (unsigned i = 1; i < KEYS; i += 2)
		passed += verdict_of(texts[i]) == GATE_pass_authorized;
	CHECK(passed == KEYS / 2, "the others still pass after it (%u of %u)", passed, KEYS / 2);
}

/* 2. The size in use follows the number of keys. Leaves KEYS / 2 keys. */
static void part_sizes(const struct in6_addr *keys, char (*texts)[48])
{
	const unsigned nfill = FILL - KEYS / 2, big = 4 * MAX_ENTRIES / 8 + 1000;
	struct gate_config c;
	unsigned k, passed = 0, sample = 0;
	int err;

	k = size_log2(&c);
	CHECK(k == MIN_LOG2 && bits_beyond(k) == 0,
	      "%u keys: 2^%u bits in use (the least, 2^16), none set beyond (%lu)", KEYS / 2, k,
	      bits_beyond(k));
	err = fillers(0, nfill, true);
	CHECK(!err && gate_seen_resize_due(&m, FILL) == 1,
	      "%u keys in 2^16 bits: a resize is due (%s)", FILL, err ? strerror(-err) : "ok");
	err = gate_seen_rebuild(&m);
	k = size_log2(&c);
	CHECK(!err && k == 18 && gate_seen_resize_due(&m, FILL) == 0,
	      "a rebuild sizes it for %u keys: 2^%u bits (2^18 at 16 a key), no resize due", FILL,
	      k);
	CHECK(missing_bits(&c, keys, nfill) == 0 && bits_beyond(k) == 0,
	      "every key's bit set at that size (%u missing), none beyond it (%lu)",
	      missing_bits(&c, keys, nfill), bits_beyond(k));
	for (unsigned i = 1; i < KEYS; i += 2, sample++)
		passed += verdict_of(texts[i]) == GATE_pass_authorized;
	CHECK(passed == sample, "the gate passes them at that size (%u of %u)", passed, sample);
	CHECK(gate_seen_resize_due(&m, 4096) == 0 && gate_seen_resize_due(&m, 4095) == 1 &&
	      gate_seen_resize_due(&m, 32768) == 0 && gate_seen_resize_due(&m, 32769) == 1,
	      "2^18 bits suit 4,096 to 32,768 keys (8 to 64 bits a key), not one fewer or more");

	err = fillers(nfill, big, true) ?: gate_seen_rebuild(&m);
	k = size_log2(&c);
	CHECK(!err && k == CAP_LOG2 && gate_seen_resize_due(&m, MAX_ENTRIES) == 0,
	      "%u keys: the capacity, 2^%u bits, and no resize due even when full (%s)",
	      big + KEYS / 2, k, err ? strerror(-err) : "ok");

	err = fillers(0, big, false) ?: gate_seen_rebuild(&m);
	k = size_log2(&c);
	passed = 0;
	for (unsigned i = 1; i < KEYS; i += 2)
		passed += verdict_of(texts[i]) == GATE_pass_authorized;
	CHECK(!err && k == MIN_LOG2 && bits_beyond(k) == 0 && passed == KEYS / 2,
	      "back to %u keys: 2^%u bits, none beyond (%lu), every key passes (%u)", KEYS / 2, k,
	      bits_beyond(k), passed);
}

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "test_bpf_seen: name this architecture's AUDIT_ARCH_ for the seccomp filter"
#endif

/* membarrier(2) fails with EPERM in this process from now on. A system call
 * number means another call under another ABI (i386 on x86_64): those pass. */
static int refuse_membarrier(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -errno;
	return syscall(__NR_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0) < 0 && errno == EPERM
		       ? 0 : -EINVAL;
}

/* 3. A resize that cannot wait for running programs keeps both sizes' bits. */
static void part_no_wait(const struct in6_addr *keys)
{
	const unsigned nfill = FILL - KEYS / 2;
	struct gate_config old, now;
	uint64_t bits, total;
	pid_t child;
	unsigned k;
	int status, err = fillers(0, nfill, true);

	CHECK(!err && size_log2(&old) == MIN_LOG2, "%u keys in 2^16 bits again (%s)", FILL,
	      err ? strerror(-err) : "ok");
	child = fork();
	if (child == 0) {
		struct gate_maps own;

		if (refuse_membarrier())
			_exit(2);
		_exit(gate_maps_open(&own, pin_dir) || gate_seen_rebuild(&own) ? 3 : 0);
	}
	waitpid(child, &status, 0);
	CHECK(child > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a process whose membarrier(2) fails rebuilds without error (status %d)", status);
	k = size_log2(&now);
	CHECK(k == 18, "it published the new size, 2^%u", k);
	CHECK(missing_bits(&old, keys, nfill) == 0 && missing_bits(&now, keys, nfill) == 0,
	      "every key's bit is set at the old size (%u missing) and at the new (%u missing)",
	      missing_bits(&old, keys, nfill), missing_bits(&now, keys, nfill));
	err = gate_seen_count(&m, &bits, &total);
	CHECK(!err && bits > FILL, "so more bits than keys are set (%llu for %u)",
	      (unsigned long long)bits, FILL);
	err = gate_seen_rebuild(&m) ?: gate_seen_count(&m, &bits, &total);
	CHECK(!err && bits <= FILL && missing_bits(&now, keys, nfill) == 0,
	      "the next rebuild sheds the old size's bits (%llu for %u keys)",
	      (unsigned long long)bits, FILL);
	err = fillers(0, nfill, false) ?: gate_seen_rebuild(&m);
	CHECK(!err && size_log2(&now) == MIN_LOG2, "and back to %u keys, 2^16 bits (%s)", KEYS / 2,
	      err ? strerror(-err) : "ok");
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* 4. The program passes every key while the size changes under it. */
#define CYCLES 6
#define CUSTOMERS 100
#define CHUNK 500
#define RESIZE_WAIT_MS 3000
#define REBUILD_PAUSE_US 2000

/* Verdicts of CUSTOMERS of part 1's remaining keys: how many passed. */
static unsigned customers_pass(char (*texts)[48])
{
	unsigned passed = 0;

	for (unsigned i = 0; i < CUSTOMERS; i++)
		passed += verdict_of(texts[1 + 2 * (i * 7 % (KEYS / 2))]) == GATE_pass_authorized;
	return passed;
}

static void part_resizes(char (*texts)[48])
{
	const unsigned nfill = FILL - KEYS / 2;
	unsigned passed = 0, runs = 0, resizes = 0, sizes = 0;
	struct gate_config c;
	pid_t child = fork();
	int status, err = 0;

	if (child == 0)
		_exit(rebuilder(REBUILD_PAUSE_US));
	if (!CHECK(child > 0, "rebuilding process started again"))
		return;
	for (unsigned cycle = 0; cycle < CYCLES && !err; cycle++) {
		unsigned want = cycle % 2 ? MIN_LOG2 : 18;
		uint64_t end;

		/* Verdicts between chunks of keys, so that some run as the
		 * other process resizes, and then until it has (bounded). */
		for (unsigned j = 0; j < nfill && !err; j += CHUNK, runs += CUSTOMERS) {
			err = fillers(j, j + CHUNK < nfill ? j + CHUNK : nfill, cycle % 2 == 0);
			passed += customers_pass(texts);
			sizes |= 1u << (size_log2(&c) & 31);
		}
		for (end = now_ms() + RESIZE_WAIT_MS; size_log2(&c) != want && now_ms() < end;
		     runs += CUSTOMERS)
			passed += customers_pass(texts);
		resizes += size_log2(&c) == want;
	}
	kill(child, SIGTERM);
	waitpid(child, &status, 0);
	CHECK(!err && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "9,500 keys added and removed %d times while the other process rebuilt (%s, status %d)",
	      CYCLES, err ? strerror(-err) : "ok", status);
	CHECK(resizes == CYCLES && sizes == (1u << MIN_LOG2 | 1u << 18),
	      "the screen went from 2^16 to 2^18 bits and back each time (%u of %d)", resizes,
	      CYCLES);
	CHECK(passed == runs, "the gate passed every authorized key throughout (%u of %u)", passed,
	      runs);
}

/* 5. Rebuilds in steps. */
#define STEP_ADDS 40            /* keys inserted between two steps */
#define ADDED_BASE 0x20000

/* A child that authorizes ADDED_BASE - 1 through its own maps and then
 * writes a byte to fd: how the parent sees when the lock let it through. */
static pid_t other_insert(int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct gate_maps own;
		struct in6_addr a;
		char text[48];

		key_of(ADDED_BASE - 1, &a, text, sizeof(text));
		if (gate_maps_open(&own, pin_dir) || gate_auth_set(&own, &a, 600, "other"))
			_exit(2);
		_exit(write(fd, "x", 1) == 1 ? 0 : 3);
	}
	return pid;
}

/* Whether other_insert() reported within ms (its byte is consumed). */
static bool inserted(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b;

	return poll(&p, 1, ms) == 1 && read(fd, &b, 1) == 1;
}

static void part_steps(const struct in6_addr *keys)
{
	const unsigned nfill = FILL - KEYS / 2;
	unsigned steps = 0, added = 0, missing = 0, passed = 0;
	uint64_t bits, after, total;
	struct gate_config c;
	struct in6_addr a;
	char text[48];
	int fds[2], status, r, err = fillers(0, nfill, true);
	bool early = false;
	pid_t child = -1;

	CHECK(!err && size_log2(&c) == MIN_LOG2, "%u keys in 2^16 bits for a rebuild in steps (%s)",
	      FILL, err ? strerror(-err) : "ok");
	if (pipe(fds))
		return;
	r = gate_seen_rebuild_begin(&m);
	for (; r == 0; steps++) {
		if (steps == 1)
			child = other_insert(fds[1]);
		for (unsigned i = 0; i < STEP_ADDS && !err; i++, added++) {
			key_of(ADDED_BASE + added, &a, text, sizeof(text));
			err = gate_auth_set(&m, &a, 600, "during");
		}
		/* The other process waits for the lock the rebuild holds. */
		if (steps == 2)
			early = inserted(fds[0], 200);
		r = gate_seen_rebuild_step(&m, 1);
	}
	CHECK(!err && r == 1 && steps >= 3 && !early,
	      "a rebuild in %u steps of 4,096 keys, %u keys inserted between them, the other "
	      "process's insert held meanwhile (%d, %s)", steps, added, r,
	      err ? strerror(-err) : "ok");
	CHECK(child > 0 && inserted(fds[0], 5000) && waitpid(child, &status, 0) == child &&
	      WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the other process's insert went through once the rebuild was over");
	CHECK(size_log2(&c) == 18, "the rebuild resized the screen to 2^%u bits (2^18)",
	      size_log2(&c));
	for (unsigned j = 0; j <= added; j++) {
		/* j == added: the other process's key, ADDED_BASE - 1 */
		key_of(j < added ? ADDED_BASE + j : ADDED_BASE - 1, &a, text, sizeof(text));
		missing += !bit_set(&m, &c, &a);
		passed += verdict_of(text) == GATE_pass_authorized;
	}
	CHECK(missing == 0 && passed == added + 1 && missing_bits(&c, keys, nfill) == 0,
	      "every key inserted meanwhile keeps its bit (%u missing) and passes (%u of %u)",
	      missing, passed, added + 1);

	/* Aborted: nothing written, the lock free again. Half the fillers go,
	 * so that a rebuild would shed their bits, and 5,620 keys stay, more
	 * than one step walks. */
	err = fillers(0, nfill / 2, false) ?: gate_seen_count(&m, &bits, &total);
	r = err ?: gate_seen_rebuild_begin(&m);
	r = r ?: gate_seen_rebuild_step(&m, 1);
	gate_seen_rebuild_abort(&m);
	err = gate_seen_count(&m, &after, &total);
	child = other_insert(fds[1]);
	CHECK(r == 0 && !err && !m.rebuilding && after == bits && inserted(fds[0], 5000) &&
	      waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "an aborted rebuild writes nothing (%llu bits set before, %llu after) and frees the "
	      "lock", (unsigned long long)bits, (unsigned long long)after);
	err = gate_seen_rebuild(&m) ?: gate_seen_count(&m, &after, &total);
	CHECK(!err && after < bits - nfill / 4,
	      "a whole one then sheds the revoked keys' bits (%llu set)", (unsigned long long)after);
	err = fillers(nfill / 2, nfill, false) ?: gate_seen_rebuild(&m);
	CHECK(!err && size_log2(&c) == MIN_LOG2, "and back to 2^16 bits without the fillers (%s)",
	      err ? strerror(-err) : "ok");
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	static struct in6_addr keys[KEYS];
	static char texts[KEYS][48];
	struct gate_config c;
	int err;

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

	part_inserts(keys, texts);
	part_sizes(keys, texts);
	part_no_wait(keys);
	part_resizes(texts);
	part_steps(keys);

	gate_bpf__destroy(skel);
	gate_maps_close(&m);
	return tap_done();
}
