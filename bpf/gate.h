/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gate.h - the contract between the BPF gate and userspace.
 *
 * Included by bpf/gate.bpf.c and by every userspace file that touches the
 * maps. Addresses are always 16 bytes: IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d), so one hash map and one LPM trie serve both families
 * and the BPF program has a single lookup call site per map (which keeps the
 * verifier's inlining of the hash lookup). Times are CLOCK_BOOTTIME
 * nanoseconds: wall-clock jumps do not move an expiry, and time spent
 * suspended counts. The program reads the cheap coarse monotonic clock
 * (one tick behind at most) and adds gate_config.boot_offset_ns, which
 * every config write and popgated's sweep keep current.
 */
#ifndef POPGATE_GATE_H
#define POPGATE_GATE_H

#include <linux/types.h>

#define GATE_USER_LEN 32        /* user name kept per address, NUL-padded */
#define GATE_MAX_PORTS 16       /* gated destination ports */
#define GATE_AUTH_MAX_DEFAULT 1048576
#define GATE_TRUST_MAX 4096
#define GATE_CONFIG_MAGIC 0x706f7067u /* "popg": config was initialised */

/* Names of the pinned objects under the pin directory. */
#define GATE_PIN_DIR_DEFAULT "/sys/fs/bpf/popgate"
#define GATE_MAP_AUTH   "gate_auth"
#define GATE_MAP_TRUST  "gate_trust"
#define GATE_MAP_CONFIG "gate_config"
#define GATE_MAP_STATS  "gate_stats"
#define GATE_MAP_SEEN   "gate_seen"

/* Key of gate_auth: the client address, IPv4 as IPv4-mapped IPv6. */
struct gate_addr {
	__u8 addr[16];
};

/* Value of gate_auth: who opened this address and until when. */
struct gate_auth {
	__u64 expires_ns;       /* CLOCK_BOOTTIME; refused from this instant */
	__u64 authorized_ns;    /* CLOCK_BOOTTIME of the login that set it */
	char user[GATE_USER_LEN];
};

/* Key of gate_trust (LPM trie); IPv4 prefixes are ::ffff:0:0/96 + len. */
struct gate_prefix {
	__u32 prefixlen;
	__u8 addr[16];
};

enum gate_action {
	GATE_ACTION_DROP = 0,
	GATE_ACTION_REJECT = 1, /* answer the SYN with a RST (XDP only) */
};

/* The single value of gate_config (array, key 0). */
struct gate_config {
	__u32 magic;            /* GATE_CONFIG_MAGIC once userspace set it */
	__u32 action;           /* enum gate_action */
	__u32 nports;
	__u32 has_trust;        /* 0: skip the LPM lookup on the fast path */
	__u16 ports[GATE_MAX_PORTS]; /* host byte order */
	__u32 seen_bits_log2;   /* gate_seen's first 2^this bits are in use, 6..32 */
	__u32 reserved;
	__u64 seen_seed;        /* key of gate_seen's hash; 0: gate_seen unused */
	__u64 boot_offset_ns;   /* CLOCK_BOOTTIME - CLOCK_MONOTONIC, last written */
};

/*
 * gate_seen: a one-hash Bloom filter of the keys of gate_auth in 64-bit
 * words. Its capacity is 8 bits per entry of gate_auth's max_entries
 * rounded up to a power of two (1 MiB for the default million): a full map
 * lets at most 12% of unknown sources through to the lookup. Only the first
 * 2^seen_bits_log2 bits are in use, sized by userspace to the keys present
 * so that they stay in the CPU's caches. A clear bit proves the source is
 * not in gate_auth, so a flood of unknown sources never touches the hash
 * table's bucket array, 16 times larger than the capacity. Userspace sets a
 * key's bit before inserting the key and rebuilds the words from gate_auth
 * to shed deleted keys, both under the pin-dir lock (gate_maps.c). The seed
 * is random per state: a sender cannot pick sources whose bits are set.
 */
#define GATE_SEEN_BITS_PER_ENTRY 8
#define GATE_SEEN_WORDS_DEFAULT (GATE_AUTH_MAX_DEFAULT / 64 * GATE_SEEN_BITS_PER_ENTRY)

/* The screen is in use: seeded, and of a size the hash can address. */
static inline __attribute__((always_inline)) int gate_seen_on(const struct gate_config *c)
{
	return c->seen_seed && c->seen_bits_log2 >= 6 && c->seen_bits_log2 <= 32;
}

/* Bit number in [0, 2^bits_log2) for bits_log2 in 6..32. */
static inline __attribute__((always_inline)) __u32
gate_seen_hash(const struct gate_addr *a, __u64 seed, __u32 bits_log2)
{
	__u64 prefix, iid, x;

	__builtin_memcpy(&prefix, a->addr, 8);
	__builtin_memcpy(&iid, a->addr + 8, 8);
	/* MurmurHash3's 64-bit finalizer over both halves and the seed: it
	 * scatters consecutive addresses (a customer range, an IPv4 block) like
	 * random ones. A single multiply-xorshift clustered them for some seeds:
	 * 1,000 consecutive keys in 2^15 bits shared up to 212 bits, not ~15. */
	x = iid ^ seed ^ (prefix * 0x9e3779b97f4a7c15ull);
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (__u32)(x >> (64 - bits_log2));
}

/*
 * Verdict counters, one per outcome of the decision. The X-macro keeps the
 * enum (used by the BPF program to index), the struct (what `bpftool map
 * dump` shows with field names) and userspace's names in one place.
 */
#define GATE_COUNTERS(X)                                                      \
	X(not_gated)          /* not a new TCP connection to a gated port */  \
	X(pass_authorized)    /* new connection, source authorized */         \
	X(pass_trusted)       /* new connection, source in a trusted prefix */\
	X(drop_unauthorized)  /* new connection, source unknown */            \
	X(drop_expired)       /* new connection, authorization expired */     \
	X(drop_fragment)      /* fragment that could hide/rewrite a TCP header */\
	X(drop_unparsable)    /* header chain longer than the parser walks */ \
	X(pass_malformed)     /* truncated/invalid: the stack drops it itself */\
	X(reject_sent)        /* RSTs sent for drops (action reject, XDP) */

enum gate_counter {
#define GATE_COUNTER_ENUM(name) GATE_##name,
	GATE_COUNTERS(GATE_COUNTER_ENUM)
#undef GATE_COUNTER_ENUM
	GATE_COUNTER_MAX
};

/* The single value of gate_stats (per-CPU array, key 0). */
struct gate_stats {
#define GATE_COUNTER_FIELD(name) __u64 name;
	GATE_COUNTERS(GATE_COUNTER_FIELD)
#undef GATE_COUNTER_FIELD
};

#endif
