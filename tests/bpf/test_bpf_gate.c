/*
 * test_bpf_gate.c - the gate's policy, packet by packet, through both entry
 * points (popgate_xdp and popgate_tc) with BPF_PROG_TEST_RUN.
 *
 * Every case names the counters the policy allows the packet to bump (more
 * than one only where the policy leaves the choice open). The verdict
 * follows from the counter: drop_* is XDP_DROP / TC_ACT_SHOT, anything else
 * XDP_PASS / TC_ACT_UNSPEC; and every run must move exactly one counter, by
 * one. Besides the hand-written rows, the rows marked SWEEP are run again
 * with the frame cut at every length and with the IP length field shrunk to
 * every value, the expectation following from the header the cut falls in:
 * a cut packet may pass as malformed (the stack drops it), must be dropped
 * when it is a fragment hiding its TCP header, and must never be decided as
 * a complete SYN. A matrix covers TCP flags x ports x sources.
 *
 * The maps are never pinned (pin paths cleared before load), so the test
 * runs next to a live popgated without touching it.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "gate.h"
#include "gate.skel.h"
#include "packet_build.h"
#include "seen_bits.h"
#include "tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define C(name) (1u << GATE_##name)
#define DROPS (C(drop_unauthorized) | C(drop_expired) | C(drop_fragment) | C(drop_unparsable))
#define CUT_OR_L2 (C(not_gated) | C(pass_malformed))
#define SHOWN_MAX 6 /* diagnostics printed per test point */

_Static_assert(sizeof(struct gate_stats) == GATE_COUNTER_MAX * sizeof(__u64),
	       "gate_stats is read as an array of counters");

static const char *const counter_names[] = {
#define GATE_COUNTER_NAME(name) #name,
	GATE_COUNTERS(GATE_COUNTER_NAME)
#undef GATE_COUNTER_NAME
};

/* --- addresses: who is who in gate_auth and gate_trust ------------------- */

#define V4_AUTH "192.0.2.10"
#define V4_EXP "192.0.2.20"
#define V4_COMPAT "192.0.2.30"   /* only ::192.0.2.30 (not ::ffff:) is in gate_auth */
#define V4_ZERO "192.0.2.40"     /* expires_ns 0 */
#define V4_TRUST "198.51.100.77"
#define V4_TRUST_EXP "198.51.100.7"
#define V4_TRUST_AUTH "198.51.100.8"
#define V6_AUTH "2001:db8:1::10"
#define V6_EXP "2001:db8:1::20"
#define V6_TRUST "3fff:1234:5678::1"
#define V6_TRUST_EXP "3fff:1234::7"
#define V6_LOW32 "2001:db8::c000:20a" /* low 32 bits are V4_AUTH */
#define V4_UNSEEN "192.0.2.50"   /* in gate_auth, its gate_seen bit left clear */
#define V4_STALE "192.0.2.60"    /* gate_seen bit set, not in gate_auth */
#define SEEN_SEED 0x5eed5eed5eed5eedull
#define SEEN_LOG2 12 /* gate_seen of 64 words */

enum expiry { VALID, EXPIRED, ZERO };

static const struct {
	const char *addr;
	enum expiry exp;
} auth_entries[] = {
	{ V4_AUTH, VALID },        { V4_EXP, EXPIRED },
	{ "::192.0.2.30", VALID }, { V4_ZERO, ZERO },
	{ V4_TRUST_EXP, EXPIRED }, { V4_TRUST_AUTH, VALID },
	{ V6_AUTH, VALID },        { V6_EXP, EXPIRED },
	{ V6_TRUST_EXP, EXPIRED }, { V4_UNSEEN, VALID },
};

static const char *const trust_entries[] = { "198.51.100.0/24", "3fff:1234::/32" };

/* --- configurations -------------------------------------------------------- */

#define CFG(...) { .magic = GATE_CONFIG_MAGIC, __VA_ARGS__ }
#define CFG_DEFAULT(...) CFG(.nports = 3, .has_trust = 1, .ports = { 25, 465, 2525 }, __VA_ARGS__)
static const struct gate_config cfg_reject = CFG_DEFAULT(.action = GATE_ACTION_REJECT);

/* --- the programs ---------------------------------------------------------- */

struct prog {
	const char *name;
	int fd;
	int pass, drop;
	bool xdp;
};

static struct {
	struct gate_bpf *skel;
	int stats_fd, config_fd;
	int ncpus;
	__u64 *percpu;
	unsigned long runs; /* test runs made, for the summary line */
	struct prog progs[2];
} T;

struct outcome {
	__u32 retval;
	__u64 delta[GATE_COUNTER_MAX];
	__u8 out[PKT_MAX + 256];
	__u32 out_len;
};

static int stats_sum(__u64 sum[GATE_COUNTER_MAX])
{
	__u32 key = 0;

	if (bpf_map_lookup_elem(T.stats_fd, &key, T.percpu))
		return -errno;
	memset(sum, 0, GATE_COUNTER_MAX * sizeof(sum[0]));
	for (int cpu = 0; cpu < T.ncpus; cpu++)
		for (int c = 0; c < GATE_COUNTER_MAX; c++)
			sum[c] += T.percpu[cpu * GATE_COUNTER_MAX + c];
	return 0;
}

/* One test run; the counter deltas are summed over CPUs before and after. */
static int run(const struct prog *g, const __u8 *data, size_t len, struct outcome *o)
{
	__u64 before[GATE_COUNTER_MAX], after[GATE_COUNTER_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = (__u32)len,
		    .data_out = o->out, .data_size_out = sizeof(o->out), .repeat = 1);
	int err;

	err = stats_sum(before);
	if (err)
		return err;
	T.runs++;
	err = bpf_prog_test_run_opts(g->fd, &opts);
	if (err)
		return err < 0 ? err : -EIO;
	err = stats_sum(after);
	if (err)
		return err;
	o->retval = opts.retval;
	o->out_len = opts.data_size_out;
	for (int c = 0; c < GATE_COUNTER_MAX; c++)
		o->delta[c] = after[c] - before[c];
	return 0;
}

static void mask_str(unsigned mask, char *buf, size_t n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int c = 0; c < GATE_COUNTER_MAX && at < n; c++)
		if (mask & (1u << c))
			at += (size_t)snprintf(buf + at, n - at, "%s%s", at ? "|" : "",
					       counter_names[c]);
}

/* Whether XDP answers a refused SYN with a RST (action reject). */
enum rst_want { RST_NO, RST_YES, RST_EITHER };

/*
 * Did the run bump exactly one counter, one the caller allows, and return
 * the verdict that counter means? An answered SYN returns XDP_TX and also
 * counts reject_sent. Returns 0 or -EBADMSG with why set.
 */
static int judge(const struct prog *g, const struct outcome *o, unsigned allowed,
		 enum rst_want rw, char *why, size_t n)
{
	bool rst = rw == RST_YES || (rw == RST_EITHER && o->retval == XDP_TX);
	char want[160];
	int hit = -1, ret;

	mask_str(allowed, want, sizeof(want));
	for (int c = 0; c < GATE_COUNTER_MAX; c++) {
		if (c == GATE_reject_sent || !o->delta[c])
			continue;
		if (o->delta[c] != 1 || hit >= 0) {
			snprintf(why, n, "counters moved: %s+%llu and %s (want %s)",
				 counter_names[c], (unsigned long long)o->delta[c],
				 hit >= 0 ? counter_names[hit] : "-", want);
			return -EBADMSG;
		}
		hit = c;
	}
	if (hit < 0) {
		snprintf(why, n, "no counter moved (want %s), retval %d", want, (int)o->retval);
		return -EBADMSG;
	}
	if (!(allowed & (1u << hit))) {
		snprintf(why, n, "counted %s, want %s (retval %d)", counter_names[hit], want,
			 (int)o->retval);
		return -EBADMSG;
	}
	if (o->delta[GATE_reject_sent] != (rst ? 1u : 0u)) {
		snprintf(why, n, "reject_sent +%llu, want +%d",
			 (unsigned long long)o->delta[GATE_reject_sent], rst);
		return -EBADMSG;
	}
	ret = rst ? XDP_TX : (DROPS & (1u << hit)) ? g->drop : g->pass;
	if ((int)o->retval != ret) {
		snprintf(why, n, "counted %s but returned %d, want %d", counter_names[hit],
			 (int)o->retval, ret);
		return -EBADMSG;
	}
	return 0;
}

static void show_hex(const char *what, const __u8 *d, size_t len)
{
	printf("#     %s (%zu bytes):", what, len);
	for (size_t i = 0; i < len; i++)
		printf("%s%02x", i % 32 ? "" : "\n#       ", d[i]);
	printf("\n");
}

/* Prints why a run failed, and the frame, while *shown allows. */
static void report(const struct prog *g, const char *label, const char *why, const __u8 *d,
		   size_t len, int *shown)
{
	if ((*shown)++ >= SHOWN_MAX)
		return;
	printf("#   %s %s: %s\n", g->name, label, why);
	show_hex("frame", d, len);
}

/* Runs one frame and judges it. Returns 0 or negative errno. */
static int check_frame(const struct prog *g, const char *label, const __u8 *d, size_t len,
		       unsigned allowed, enum rst_want rw, struct outcome *o, int *shown)
{
	char why[256];
	int err;

	err = run(g, d, len, o);
	if (err)
		snprintf(why, sizeof(why), "test run failed: %s", strerror(-err));
	else
		err = judge(g, o, allowed, rw, why, sizeof(why));
	if (err)
		report(g, label, why, d, len, shown);
	return err;
}

/* --- the table -------------------------------------------------------------- */

enum row_flags {
	SWEEP_CUT = 1, /* also every truncation of the frame */
	SWEEP_LEN = 2, /* also every shorter IP length field */
	SWEEP = SWEEP_CUT | SWEEP_LEN,
	RST = 4,       /* action reject: XDP answers with a RST */
	RST_MAY = 8,   /* action reject: a RST, or a plain drop (the object may
			* leave SYNs with IP options / extension headers alone) */
};

struct row {
	const char *name;
	unsigned want; /* counters allowed */
	unsigned flags;
	struct pkt_spec p;
};

#define ROW(n, w, f, ...) { .name = (n), .want = (w), .flags = (f), .p = { __VA_ARGS__ } }
#define V4 .fam = 4
#define V6 .fam = 6
#define SYN_TO(port) .flags = TH_SYN, .dport = (port)
#define TAGS(...) .tags = { __VA_ARGS__ }
#define LEN(n) .set_len = 1, .l3_len = (n)
#define QinQ ETH_P_8021AD, ETH_P_8021Q
#define DOT1Q ETH_P_8021Q

static const struct row rows_default[] = {
	/* the plain cases, each family, unknown and authorized */
	ROW("v4 SYN :25 unknown", C(drop_unauthorized), SWEEP, V4, SYN_TO(25), .tcp_opt = 4),
	ROW("v4 SYN :25 authorized", C(pass_authorized), SWEEP, V4, SYN_TO(25), .src = V4_AUTH),
	ROW("v6 SYN :25 unknown", C(drop_unauthorized), SWEEP, V6, SYN_TO(25), .tcp_opt = 12),
	ROW("v6 SYN :25 authorized", C(pass_authorized), SWEEP, V6, SYN_TO(25), .src = V6_AUTH),
	ROW("full path: v6 authorized, QinQ, 3 ext headers", C(pass_authorized), SWEEP,
	    V6, SYN_TO(25), .src = V6_AUTH, TAGS(QinQ), .ext = "HRD", .tcp_opt = 8),
	ROW("full path: v6 unknown, QinQ, 3 ext headers", C(drop_unauthorized), SWEEP,
	    V6, SYN_TO(25), TAGS(QinQ), .ext = "HRD", .tcp_opt = 8),

	/* L2 */
	ROW("ARP ethertype carrying a SYN", C(not_gated), 0, V4, SYN_TO(25), .ethertype = ETH_P_ARP),
	ROW("LLDP ethertype", C(not_gated), 0, V4, SYN_TO(25), .ethertype = ETH_P_LLDP),
	ROW("VLAN 802.1Q v4", C(drop_unauthorized), SWEEP, V4, SYN_TO(25), TAGS(DOT1Q)),
	ROW("VLAN 802.1ad v4", C(drop_unauthorized), 0, V4, SYN_TO(25), TAGS(ETH_P_8021AD)),
	ROW("VLAN 802.1Q v6 authorized", C(pass_authorized), 0, V6, SYN_TO(25), .src = V6_AUTH,
	    TAGS(DOT1Q)),
	ROW("QinQ 88a8+8100 v4", C(drop_unauthorized), SWEEP, V4, SYN_TO(25), TAGS(QinQ)),
	ROW("double 8100+8100 v6", C(drop_unauthorized), 0, V6, SYN_TO(25), TAGS(DOT1Q, DOT1Q)),
	ROW("double 88a8+88a8 v4", C(drop_unauthorized), 0, V4, SYN_TO(25),
	    TAGS(ETH_P_8021AD, ETH_P_8021AD)),
	ROW("double 8100+88a8 v6 authorized", C(pass_authorized), 0, V6, SYN_TO(25),
	    .src = V6_AUTH, TAGS(DOT1Q, ETH_P_8021AD)),
	ROW("double 8100+88a8 v4 authorized", C(pass_authorized), 0, V4, SYN_TO(25),
	    .src = V4_AUTH, TAGS(DOT1Q, ETH_P_8021AD)),
	ROW("triple tag 88a8+8100+8100 v4", C(not_gated), SWEEP_CUT, V4, SYN_TO(25),
	    TAGS(ETH_P_8021AD, DOT1Q, DOT1Q)),
	ROW("triple tag 8100x3 v6", C(not_gated), 0, V6, SYN_TO(25), TAGS(DOT1Q, DOT1Q, DOT1Q)),
	ROW("VLAN + ARP", C(not_gated), 0, V4, SYN_TO(25), TAGS(DOT1Q), .ethertype = ETH_P_ARP),
	ROW("tag 0x9100 (not a TPID the gate parses)", C(not_gated), 0, V4, SYN_TO(25),
	    TAGS(0x9100)),

	/* L3 validity */
	ROW("ethertype IPv4, version 6 header", C(pass_malformed), 0, V6, SYN_TO(25),
	    .ethertype = ETH_P_IP),
	ROW("ethertype IPv6, version 4 header", C(pass_malformed), 0, V4, SYN_TO(25),
	    .ethertype = ETH_P_IPV6),
	ROW("v4 version 5", C(pass_malformed), 0, V4, SYN_TO(25), .version = 5),
	ROW("v4 ihl 4", C(pass_malformed), 0, V4, SYN_TO(25), .ihl = 4),
	ROW("v4 ihl 0", C(pass_malformed), 0, V4, SYN_TO(25), .ihl = 0x10),
	ROW("v4 ihl 6 > tot_len 20", C(pass_malformed), 0, V4, SYN_TO(25), .ip_opt = 4, LEN(20)),
	ROW("v4 tot_len 16", C(pass_malformed), 0, V4, SYN_TO(25), LEN(16)),
	ROW("v4 tot_len 0", C(pass_malformed), 0, V4, SYN_TO(25), LEN(0)),
	ROW("v6 version 4", C(pass_malformed), 0, V6, SYN_TO(25), .version = 4),
	ROW("v4 DF SYN unknown", C(drop_unauthorized), 0, V4, SYN_TO(25), .df = 1),

	/* IPv4 options: the TCP header is at ihl*4 */
	ROW("v4 4 option bytes, unknown", C(drop_unauthorized), SWEEP, V4, SYN_TO(25), .ip_opt = 4),
	ROW("v4 40 option bytes, authorized", C(pass_authorized), SWEEP, V4, SYN_TO(25),
	    .ip_opt = 40, .src = V4_AUTH),
	ROW("v4 40 option bytes, unknown", C(drop_unauthorized), 0, V4, SYN_TO(25), .ip_opt = 40),
	ROW("v4 8 option bytes, SYN :110", C(not_gated), 0, V4, SYN_TO(110), .ip_opt = 8),

	/* IPv6 extension headers, each kind, then chains */
	ROW("v6 hop-by-hop", C(drop_unauthorized), SWEEP, V6, SYN_TO(25), .ext = "H"),
	ROW("v6 hop-by-hop 24 bytes", C(pass_authorized), SWEEP, V6, SYN_TO(25), .ext = "h",
	    .src = V6_AUTH),
	ROW("v6 routing", C(drop_unauthorized), SWEEP, V6, SYN_TO(25), .ext = "R"),
	ROW("v6 dest opts", C(drop_unauthorized), SWEEP, V6, SYN_TO(25), .ext = "D"),
	ROW("v6 dest opts 16 bytes", C(pass_authorized), 0, V6, SYN_TO(25), .ext = "d",
	    .src = V6_AUTH),
	ROW("v6 AH", C(drop_unauthorized), SWEEP, V6, SYN_TO(25), .ext = "A"),
	ROW("v6 AH authorized", C(pass_authorized), 0, V6, SYN_TO(25), .ext = "A", .src = V6_AUTH),
	ROW("v6 chain HRDA", C(drop_unauthorized), SWEEP, V6, SYN_TO(25), .ext = "HRDA"),
	ROW("v6 chain hdRAD authorized", C(pass_authorized), SWEEP, V6, SYN_TO(25),
	    .ext = "hdRAD", .src = V6_AUTH),
	ROW("v6 8 headers, unknown", C(drop_unauthorized), SWEEP, V6, SYN_TO(25),
	    .ext = "HRADDDDD"),
	ROW("v6 8 headers, authorized", C(pass_authorized), SWEEP, V6, SYN_TO(25),
	    .ext = "hRAdDDDD", .src = V6_AUTH),
	ROW("v6 8 headers incl. atomic fragment", C(drop_unauthorized), 0, V6, SYN_TO(25),
	    .ext = "HRFADDDD"),
	ROW("v6 9 headers, unknown", C(drop_unparsable), SWEEP, V6, SYN_TO(25),
	    .ext = "HRADDDDDD"),
	ROW("v6 9 headers, authorized", C(drop_unparsable), SWEEP, V6, SYN_TO(25),
	    .ext = "HRADDDDDD", .src = V6_AUTH),
	ROW("v6 9 headers then UDP", C(drop_unparsable), 0, V6, .proto = IPPROTO_UDP,
	    .dport = 25, .ext = "HRADDDDDD"),
	ROW("v6 8 headers then UDP", C(not_gated), 0, V6, .proto = IPPROTO_UDP, .dport = 25,
	    .ext = "HRADDDDD"),
	ROW("v6 8 headers then no next header", C(not_gated), 0, V6, .proto = IPPROTO_NONE,
	    .ext = "HRADDDDD"),
	ROW("v6 HD then UDP :25", C(not_gated), 0, V6, .proto = IPPROTO_UDP, .dport = 25,
	    .ext = "HD"),
	ROW("v6 no next header", C(not_gated), 0, V6, .proto = IPPROTO_NONE),
	ROW("v6 dest opts, no next header", C(not_gated), 0, V6, .proto = IPPROTO_NONE,
	    .ext = "D"),
	ROW("v6 ESP", C(not_gated), 0, V6, .proto = IPPROTO_ESP, .ext = "H"),

	/* non-TCP and not-a-new-connection */
	ROW("v4 UDP :25", C(not_gated), 0, V4, .proto = IPPROTO_UDP, .dport = 25),
	ROW("v6 UDP :25", C(not_gated), 0, V6, .proto = IPPROTO_UDP, .dport = 25),
	ROW("v4 ICMP", C(not_gated), 0, V4, .proto = IPPROTO_ICMP, .dport = 25),
	ROW("v6 ICMPv6", C(not_gated), 0, V6, .proto = IPPROTO_ICMPV6, .dport = 25),
	ROW("v4 SCTP :25", C(not_gated), 0, V4, .proto = IPPROTO_SCTP, .dport = 25),
	ROW("v4 SYN from port 25 to 40000", C(not_gated), 0, V4, .flags = TH_SYN, .sport = 25,
	    .dport = 40000),
	ROW("v6 SYN with data (TFO), unknown", C(drop_unauthorized), 0, V6, SYN_TO(25),
	    .payload = 100),

	/* IPv4 fragments */
	ROW("v4 first fragment, complete, unknown", C(drop_unauthorized), SWEEP, V4, SYN_TO(25),
	    .mf = 1, .payload = 40),
	ROW("v4 first fragment, complete, authorized", C(pass_authorized), SWEEP, V4, SYN_TO(25),
	    .mf = 1, .payload = 40, .src = V4_AUTH),
	ROW("v4 first fragment, options, authorized", C(pass_authorized), SWEEP, V4, SYN_TO(25),
	    .mf = 1, .ip_opt = 12, .payload = 8, .src = V4_AUTH),
	ROW("v4 first fragment, 8 bytes of TCP", C(drop_fragment), 0, V4, SYN_TO(25), .mf = 1,
	    .l4_cut = 8),
	ROW("v4 first fragment, 8 bytes of TCP, authorized", C(drop_fragment), 0, V4,
	    SYN_TO(25), .mf = 1, .l4_cut = 8, .src = V4_AUTH),
	ROW("v4 first fragment, tot_len cuts TCP (frame has it)", C(drop_fragment), 0, V4,
	    SYN_TO(25), .mf = 1, LEN(20 + 16)),
	ROW("v4 first fragment, ACK", C(not_gated), 0, V4, .flags = TH_ACK, .dport = 25, .mf = 1,
	    .payload = 8),
	ROW("v4 unfragmented, 8 bytes of TCP", C(pass_malformed), 0, V4, SYN_TO(25), .l4_cut = 8),
	ROW("v4 offset 1", C(drop_fragment), SWEEP, V4, SYN_TO(25), .frag = 1, .mf = 1),
	ROW("v4 offset 2", C(drop_fragment), 0, V4, SYN_TO(25), .frag = 2, .mf = 1),
	ROW("v4 offset 1, last fragment", C(drop_fragment), 0, V4, SYN_TO(25), .frag = 1),
	ROW("v4 offset 1, authorized source", C(drop_fragment), 0, V4, SYN_TO(25), .frag = 1,
	    .src = V4_AUTH),
	ROW("v4 offset 1, ACK-looking data", C(drop_fragment), 0, V4, .flags = TH_ACK,
	    .dport = 110, .frag = 1),
	ROW("v4 offset 3 (data looks like a SYN)", C(not_gated), SWEEP, V4, SYN_TO(25), .frag = 3,
	    .mf = 1),
	ROW("v4 offset 3, last fragment", C(not_gated), 0, V4, SYN_TO(25), .frag = 3),
	ROW("v4 offset 185", C(not_gated), 0, V4, SYN_TO(25), .frag = 185, .mf = 1),
	ROW("v4 offset 1, UDP", C(not_gated), 0, V4, .proto = IPPROTO_UDP, .dport = 25, .frag = 1),

	/* IPv6 fragments */
	ROW("v6 first fragment, complete, unknown", C(drop_unauthorized), SWEEP, V6, SYN_TO(25),
	    .ext = "F", .mf = 1, .payload = 40),
	ROW("v6 first fragment, complete, authorized", C(pass_authorized), SWEEP, V6,
	    SYN_TO(25), .ext = "F", .mf = 1, .payload = 40, .src = V6_AUTH),
	ROW("v6 first fragment, 8 bytes of TCP", C(drop_fragment), 0, V6, SYN_TO(25), .ext = "F",
	    .mf = 1, .l4_cut = 8),
	ROW("v6 first fragment, 8 bytes of TCP, authorized", C(drop_fragment), 0, V6,
	    SYN_TO(25), .ext = "F", .mf = 1, .l4_cut = 8, .src = V6_AUTH),
	ROW("v6 first fragment then dest opts, complete", C(drop_unauthorized), SWEEP, V6,
	    SYN_TO(25), .ext = "FD", .mf = 1),
	ROW("v6 H, first fragment, D, authorized", C(pass_authorized), SWEEP, V6, SYN_TO(25),
	    .ext = "HFd", .mf = 1, .src = V6_AUTH),
	ROW("v6 first fragment, payload_len ends in dest opts", C(drop_fragment), 0, V6,
	    SYN_TO(25), .ext = "FD", .mf = 1, LEN(8 + 4)),
	ROW("v6 first fragment, payload_len cuts TCP", C(drop_fragment), 0, V6, SYN_TO(25),
	    .ext = "F", .mf = 1, LEN(8 + 19)),
	ROW("v6 offset 1 -> TCP", C(drop_fragment), SWEEP, V6, SYN_TO(25), .ext = "F", .frag = 1,
	    .mf = 1),
	ROW("v6 offset 2 -> TCP", C(drop_fragment), 0, V6, SYN_TO(25), .ext = "F", .frag = 2),
	ROW("v6 offset 1 -> dest opts", C(drop_fragment), SWEEP, V6, SYN_TO(25), .ext = "FD",
	    .frag = 1, .mf = 1),
	ROW("v6 offset 1 -> AH", C(drop_fragment), 0, V6, SYN_TO(25), .ext = "FA", .frag = 1,
	    .mf = 1),
	ROW("v6 offset 1 -> UDP", C(not_gated), 0, V6, .proto = IPPROTO_UDP, .dport = 25,
	    .ext = "F", .frag = 1, .mf = 1),
	ROW("v6 offset 3 -> TCP (data looks like a SYN)", C(not_gated), SWEEP, V6, SYN_TO(25),
	    .ext = "F", .frag = 3, .mf = 1),
	ROW("v6 offset 3 -> dest opts", C(not_gated), 0, V6, SYN_TO(25), .ext = "FD", .frag = 3),
	ROW("v6 atomic fragment, unknown", C(drop_unauthorized), SWEEP, V6, SYN_TO(25),
	    .ext = "F"),
	ROW("v6 atomic fragment, authorized", C(pass_authorized), 0, V6, SYN_TO(25), .ext = "F",
	    .src = V6_AUTH),
	ROW("v6 atomic fragment, 8 bytes of TCP", C(pass_malformed), 0, V6, SYN_TO(25),
	    .ext = "F", .l4_cut = 8),

	/* length fields shorter than the frame: bytes past them must not count */
	ROW("v4 tot_len ends before the flags, SYN in the frame", C(pass_malformed), 0, V4,
	    SYN_TO(25), LEN(20 + 13), .pad = 20),
	ROW("v4 tot_len ends after the flags, header cut", C(pass_malformed), 0, V4, SYN_TO(25),
	    LEN(20 + 14)),
	ROW("v4 tot_len 1 byte short of TCP", C(pass_malformed), 0, V4, SYN_TO(25), LEN(20 + 19)),
	ROW("v4 tot_len cuts TCP, authorized", C(pass_malformed), 0, V4, SYN_TO(25),
	    .src = V4_AUTH, LEN(20 + 12)),
	ROW("v4 header-only tot_len, padded with 0x02", C(pass_malformed), 0, V4, SYN_TO(25),
	    LEN(20), .pad = 26),
	ROW("v4 ACK padded with 0x02 to 60 bytes", C(not_gated), 0, V4, .flags = TH_ACK,
	    .dport = 25, .pad = 6),
	ROW("v4 SYN padded to 60 bytes", C(drop_unauthorized), 0, V4, SYN_TO(25), .pad = 6),
	ROW("v4 tot_len longer than frame, TCP complete", C(drop_unauthorized), 0, V4, SYN_TO(25),
	    LEN(1400)),
	ROW("v6 payload_len 12", C(pass_malformed), 0, V6, SYN_TO(25), LEN(12), .pad = 8),
	ROW("v6 payload_len 19, authorized", C(pass_malformed), 0, V6, SYN_TO(25), LEN(19),
	    .src = V6_AUTH),
	ROW("v6 payload_len ends in the chain", C(pass_malformed), 0, V6, SYN_TO(25),
	    .ext = "HD", LEN(10)),
	ROW("v6 payload_len 0, unknown", C(drop_unauthorized), 0, V6, SYN_TO(25), LEN(0)),
	ROW("v6 payload_len 0, authorized", C(pass_authorized), 0, V6, SYN_TO(25), LEN(0),
	    .src = V6_AUTH),
	ROW("v6 payload_len 0, chain HD", C(drop_unauthorized), 0, V6, SYN_TO(25), LEN(0),
	    .ext = "HD"),
	ROW("v6 payload_len short of padding, TCP complete", C(drop_unauthorized), 0, V6,
	    SYN_TO(25), .pad = 30),

	/* sources: IPv4-mapped keys, prefixes, expiries */
	ROW("v4 authorized and trusted", C(pass_authorized), 0, V4, SYN_TO(25),
	    .src = V4_TRUST_AUTH),
	ROW("v4 trusted and expired", C(pass_trusted), 0, V4, SYN_TO(25), .src = V4_TRUST_EXP),
	ROW("v4 trusted .0", C(pass_trusted), 0, V4, SYN_TO(25), .src = "198.51.100.0"),
	ROW("v4 trusted .255", C(pass_trusted), 0, V4, SYN_TO(25), .src = "198.51.100.255"),
	ROW("v4 just above the /24", C(drop_unauthorized), 0, V4, SYN_TO(25),
	    .src = "198.51.101.0"),
	ROW("v4 just below the /24", C(drop_unauthorized), 0, V4, SYN_TO(25),
	    .src = "198.51.99.255"),
	ROW("v4 expires_ns 0", C(drop_expired), 0, V4, SYN_TO(25), .src = V4_ZERO),
	ROW("v4 whose ::a.b.c.d (not ::ffff:) is in gate_auth", C(drop_unauthorized), 0, V4,
	    SYN_TO(25), .src = V4_COMPAT),
	ROW("v6 whose low 32 bits are an authorized v4", C(drop_unauthorized), 0, V6,
	    SYN_TO(25), .src = V6_LOW32),
	ROW("v6 trusted and expired", C(pass_trusted), 0, V6, SYN_TO(25), .src = V6_TRUST_EXP),
	ROW("v6 trusted, end of the /32", C(pass_trusted), 0, V6, SYN_TO(25),
	    .src = "3fff:1234:ffff:ffff:ffff:ffff:ffff:ffff"),
	ROW("v6 just above the /32", C(drop_unauthorized), 0, V6, SYN_TO(25),
	    .src = "3fff:1235::"),
	ROW("v6 just below the /32", C(drop_unauthorized), 0, V6, SYN_TO(25),
	    .src = "3fff:1233:ffff:ffff:ffff:ffff:ffff:ffff"),
	/* An IPv6 header carrying ::ffff:a.b.c.d: the policy does not say; the
	 * stack drops such SYNs (tcp_v6_conn_request), so either is safe. */
	ROW("v6 header from ::ffff:" V4_AUTH, C(pass_authorized) | C(drop_unauthorized), 0, V6,
	    SYN_TO(25), .src = "::ffff:" V4_AUTH),
	ROW("v6 header from ::ffff:198.51.100.9", C(pass_trusted) | C(drop_unauthorized), 0, V6,
	    SYN_TO(25), .src = "::ffff:198.51.100.9"),
	ROW("v6 header from ::ffff:" PKT_SRC4, C(drop_unauthorized), 0, V6, SYN_TO(25),
	    .src = "::ffff:" PKT_SRC4),
};

static const struct row rows_notrust[] = {
	ROW("has_trust 0: v4 trusted", C(drop_unauthorized), 0, V4, SYN_TO(25), .src = V4_TRUST),
	ROW("has_trust 0: v6 trusted", C(drop_unauthorized), 0, V6, SYN_TO(25), .src = V6_TRUST),
	ROW("has_trust 0: v4 trusted and expired", C(drop_expired), 0, V4, SYN_TO(25),
	    .src = V4_TRUST_EXP),
	ROW("has_trust 0: v4 authorized", C(pass_authorized), 0, V4, SYN_TO(25), .src = V4_AUTH),
};

static const struct row rows_ports587[] = {
	ROW("ports 587: SYN :587 unknown", C(drop_unauthorized), 0, V4, SYN_TO(587)),
	ROW("ports 587: SYN :587 authorized", C(pass_authorized), 0, V6, SYN_TO(587),
	    .src = V6_AUTH),
	ROW("ports 587: SYN :25 unknown", C(not_gated), 0, V4, SYN_TO(25)),
	ROW("ports 587: SYN :465 unknown", C(not_gated), 0, V6, SYN_TO(465)),
	ROW("ports 587: SYN :2525 unknown", C(not_gated), 0, V4, SYN_TO(2525)),
};

static const struct row rows_ports16[] = {
	ROW("16 ports: the 16th (2525)", C(drop_unauthorized), 0, V4, SYN_TO(2525)),
	ROW("16 ports: the 1st (1)", C(drop_unauthorized), 0, V6, SYN_TO(1)),
	ROW("16 ports: 25 is not among them", C(not_gated), 0, V4, SYN_TO(25)),
};

static const struct row rows_nports2[] = {
	ROW("nports 2: 465", C(drop_unauthorized), 0, V4, SYN_TO(465)),
	ROW("nports 2: 2525 past nports", C(not_gated), 0, V4, SYN_TO(2525)),
};

static const struct row rows_none[] = {
	ROW("zeroed config: SYN :25 unknown", C(not_gated), 0, V4, SYN_TO(25)),
	ROW("zeroed config: v6 SYN :25 unknown", C(not_gated), 0, V6, SYN_TO(25)),
};

static const struct row rows_again[] = {
	ROW("default again: SYN :25 unknown", C(drop_unauthorized), 0, V4, SYN_TO(25)),
	ROW("default again: SYN :587 unknown", C(not_gated), 0, V4, SYN_TO(587)),
	ROW("default again: v4 trusted", C(pass_trusted), 0, V4, SYN_TO(25), .src = V4_TRUST),
};

/* gate_seen holds the bit of every key above but V4_UNSEEN's, and V4_STALE's. */
static const struct row rows_seen[] = {
	ROW("gate_seen: key without its bit is not looked up", C(drop_unauthorized), 0, V4,
	    SYN_TO(25), .src = V4_UNSEEN),
	ROW("gate_seen: bit without its key (deleted)", C(drop_unauthorized), 0, V4, SYN_TO(25),
	    .src = V4_STALE),
	ROW("gate_seen: v4 trusted, no bit", C(pass_trusted), 0, V4, SYN_TO(25), .src = V4_TRUST),
	ROW("gate_seen: v6 trusted, no bit", C(pass_trusted), 0, V6, SYN_TO(25), .src = V6_TRUST),
	ROW("gate_seen: v4 expired", C(drop_expired), 0, V4, SYN_TO(25), .src = V4_EXP),
	ROW("gate_seen: v4 expires_ns 0", C(drop_expired), 0, V4, SYN_TO(25), .src = V4_ZERO),
	ROW("gate_seen: ::a.b.c.d key, v4 packet", C(drop_unauthorized), 0, V4, SYN_TO(25),
	    .src = V4_COMPAT),
};

static const struct row rows_seen_off[] = {
	ROW("gate_seen off: key without its bit", C(pass_authorized), 0, V4, SYN_TO(25),
	    .src = V4_UNSEEN),
};

static const struct row rows_seen_bad[] = {
	ROW("gate_seen size out of range: not used", C(pass_authorized), 0, V4, SYN_TO(25),
	    .src = V4_UNSEEN),
};

/* Expiries are CLOCK_BOOTTIME; the program adds boot_offset_ns to its
 * monotonic clock: 2 h of suspend expire the 1-hour entries. */
static const struct row rows_offset[] = {
	ROW("boot offset 2 h: v4 authorized for 1 h", C(drop_expired), 0, V4, SYN_TO(25),
	    .src = V4_AUTH),
	ROW("boot offset 2 h: v6 authorized for 1 h", C(drop_expired), 0, V6, SYN_TO(25),
	    .src = V6_AUTH),
	ROW("boot offset 2 h: v4 trusted", C(pass_trusted), 0, V4, SYN_TO(25), .src = V4_TRUST),
};

static const struct section {
	const char *name;
	struct gate_config cfg;
	const struct row *rows;
	size_t nrows;
	bool matrix; /* also the flags x ports x sources matrix */
} sections[] = {
	{ "default", CFG_DEFAULT(.action = GATE_ACTION_DROP),
	  rows_default, ARRAY_SIZE(rows_default), true },
	{ "has_trust 0", CFG(.nports = 3, .ports = { 25, 465, 2525 }), rows_notrust,
	  ARRAY_SIZE(rows_notrust), false },
	{ "ports 587", CFG(.nports = 1, .has_trust = 1, .ports = { 587 }), rows_ports587,
	  ARRAY_SIZE(rows_ports587), false },
	{ "16 ports", CFG(.nports = 16, .has_trust = 1,
			  .ports = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 2525 }),
	  rows_ports16, ARRAY_SIZE(rows_ports16), false },
	{ "nports 2", CFG(.nports = 2, .has_trust = 1, .ports = { 25, 465, 2525 }),
	  rows_nports2, ARRAY_SIZE(rows_nports2), false },
	{ "zeroed", { 0 }, rows_none, ARRAY_SIZE(rows_none), false },
	{ "default again", CFG_DEFAULT(.action = GATE_ACTION_DROP),
	  rows_again, ARRAY_SIZE(rows_again), false },
	{ "gate_seen off (seed 0)", CFG_DEFAULT(.action = GATE_ACTION_DROP), rows_seen_off,
	  ARRAY_SIZE(rows_seen_off), false },
	{ "gate_seen bits_log2 33", CFG_DEFAULT(.seen_seed = SEEN_SEED, .seen_bits_log2 = 33),
	  rows_seen_bad, ARRAY_SIZE(rows_seen_bad), false },
	/* The whole policy again with the screen in front of the lookup. */
	{ "gate_seen on", CFG_DEFAULT(.seen_seed = SEEN_SEED, .seen_bits_log2 = SEEN_LOG2), rows_default,
	  ARRAY_SIZE(rows_default), true },
	{ "gate_seen on: its bits", CFG_DEFAULT(.seen_seed = SEEN_SEED, .seen_bits_log2 = SEEN_LOG2), rows_seen,
	  ARRAY_SIZE(rows_seen), false },
	{ "boot offset 2 h", CFG_DEFAULT(.seen_seed = SEEN_SEED, .seen_bits_log2 = SEEN_LOG2,
					 .boot_offset_ns = 7200ull * 1000000000ull),
	  rows_offset, ARRAY_SIZE(rows_offset), false },
};

static const struct row rows_reject[] = {
	ROW("reject: v4 SYN :25 unknown", C(drop_unauthorized), RST, V4, SYN_TO(25),
	    .seq = 0x01020304),
	ROW("reject: v4 SYN :465 expired", C(drop_expired), RST, V4, SYN_TO(465), .src = V4_EXP,
	    .seq = 7),
	ROW("reject: v4 TCP options, seq wraps", C(drop_unauthorized), RST, V4, SYN_TO(2525),
	    .tcp_opt = 12, .seq = 0xffffffff),
	ROW("reject: v4 SYN carrying 10 bytes (TFO)", C(drop_unauthorized), RST, V4, SYN_TO(25),
	    .tcp_opt = 4, .payload = 10, .seq = 1000),
	ROW("reject: v4 IP options", C(drop_unauthorized), RST_MAY, V4, SYN_TO(25), .ip_opt = 8,
	    .seq = 3),
	ROW("reject: v6 dest opts", C(drop_unauthorized), RST_MAY, V6, SYN_TO(25), .ext = "D",
	    .seq = 3),
	ROW("reject: v4 SYN|FIN", C(drop_unauthorized), RST, V4, .flags = TH_SYN | TH_FIN,
	    .dport = 25, .seq = 50),
	/* RFC 9293 3.10.7.1: a segment carrying RST is never answered with one */
	ROW("reject: v4 SYN|RST is dropped, not answered", C(drop_unauthorized), 0, V4,
	    .flags = TH_SYN | TH_RST, .dport = 25),
	ROW("reject: v4 802.1Q", C(drop_unauthorized), RST, V4, SYN_TO(25), TAGS(DOT1Q),
	    .seq = 99),
	ROW("reject: v4 padded frame", C(drop_unauthorized), RST, V4, SYN_TO(25), .pad = 6,
	    .seq = 5),
	ROW("reject: v6 SYN :25 unknown", C(drop_unauthorized), RST, V6, SYN_TO(25),
	    .tcp_opt = 20, .seq = 0x80000000),
	ROW("reject: v6 QinQ expired", C(drop_expired), RST, V6, SYN_TO(25), TAGS(QinQ),
	    .src = V6_EXP, .seq = 1),
	ROW("reject: v4 authorized passes", C(pass_authorized), 0, V4, SYN_TO(25), .src = V4_AUTH),
	ROW("reject: v4 ACK passes", C(not_gated), 0, V4, .flags = TH_ACK, .dport = 25),
	ROW("reject: v4 offset 1 is dropped, not answered", C(drop_fragment), 0, V4, SYN_TO(25),
	    .frag = 1, .mf = 1),
	ROW("reject: v4 first fragment, 8 bytes of TCP", C(drop_fragment), 0, V4, SYN_TO(25),
	    .mf = 1, .l4_cut = 8),
	ROW("reject: v6 9 headers", C(drop_unparsable), 0, V6, SYN_TO(25), .ext = "HRADDDDDD"),
};

/* --- sweeps: what a cut means, from where it falls ----------------------- */

/*
 * The policy's answer for a packet whose data ends at `end` (the frame cut
 * there, or the IP length field ending there: by_len), given its full
 * answer. From `decided` on, everything the decision needs is present.
 */
static unsigned expect_at(const struct row *r, const struct pkt *p, size_t end, bool by_len)
{
	size_t decided = p->l4 + 20, unparsable_from = 0;

	if (p->ntags >= PKT_MAX_TAGS) {
		decided = p->l3; /* the parser stops at the third tag */
	} else if (r->want == C(drop_unparsable) && p->n_ext > 7) {
		/* known once the 8th header's next-header byte is read; a parser
		 * may also insist on the whole 8th header first */
		unparsable_from = p->ext_start[7] + 2;
		decided = p->ext_end[7];
	} else if (p->frag_end && r->p.frag) {
		decided = p->frag_end; /* non-first: the data is never parsed */
	}
	if (end >= decided)
		return r->want;
	if (end < p->l3)
		return CUT_OR_L2; /* the policy does not say which */
	if (p->first_frag && end >= p->frag_end) {
		/* A frame cut in the IPv4 options of a first fragment: its TCP
		 * header is incomplete (drop_fragment), or its IP header is
		 * (malformed); a tot_len ending there is ihl*4 > tot_len. */
		if (end < p->l3_hdr)
			return by_len ? C(pass_malformed) : C(pass_malformed) | C(drop_fragment);
		return C(drop_fragment);
	}
	if (unparsable_from && end >= unparsable_from)
		return C(pass_malformed) | C(drop_unparsable);
	return C(pass_malformed);
}

/*
 * BPF_PROG_TEST_RUN refuses some frames outright (EINVAL): any under
 * ETH_HLEN, and for skb programs one whose outer ethertype is IPv4/IPv6 but
 * whose fixed IP header is incomplete. A real tc hook can see the latter;
 * the harness cannot feed it.
 */
static bool kernel_may_refuse(const struct prog *g, const struct pkt *p, size_t cut)
{
	return cut < ETH_HLEN || (!g->xdp && !p->ntags && cut < p->l3_fixed);
}

/* The frame cut at every length. */
static void sweep_cut(const struct prog *g, const struct row *r, const struct pkt *p)
{
	static struct outcome o;
	int shown = 0, failed = 0, refused = 0, err;
	char label[64], why[256];

	for (size_t cut = 0; cut < p->len; cut++) {
		err = run(g, p->d, cut, &o);
		if (err == -EINVAL && kernel_may_refuse(g, p, cut)) {
			refused++;
			continue;
		}
		if (err)
			snprintf(why, sizeof(why), "test run failed: %s", strerror(-err));
		else
			err = judge(g, &o, expect_at(r, p, cut, false), RST_NO, why, sizeof(why));
		if (err) {
			snprintf(label, sizeof(label), "cut at %zu of %zu", cut, p->len);
			report(g, label, why, p->d, cut, &shown);
			failed++;
		}
	}
	CHECK(!failed, "%s: %s: frame cut at each of 0..%zu (%d wrong, %d refused by the kernel)",
	      g->name, r->name, p->len - 1, failed, refused);
}

/* The IP length field at every shorter value, the frame left whole. */
static void sweep_len(const struct prog *g, const struct row *r, const struct pkt *full)
{
	static struct outcome o;
	static struct pkt p;
	size_t hdr = r->p.fam == 4 ? 0 : 40, truelen = full->l3_end - full->l3 - hdr;
	int shown = 0, failed = 0;
	char label[64];

	for (size_t len = 0; len < truelen; len++) {
		struct pkt_spec s = r->p;
		unsigned want;

		s.set_len = 1;
		s.l3_len = (__u16)len;
		if (pkt_build(&s, &p)) {
			failed++;
			continue;
		}
		/* IPv6 payload length 0: up to the frame's end */
		want = r->p.fam == 6 && !len ? r->want :
		       expect_at(r, &p, full->l3 + hdr + len, true);
		snprintf(label, sizeof(label), "%s %zu of %zu", hdr ? "payload_len" : "tot_len",
			 len, truelen);
		failed += check_frame(g, label, p.d, p.len, want, RST_NO, &o, &shown) != 0;
	}
	CHECK(!failed, "%s: %s: %s at each of 0..%zu (%d wrong)", g->name, r->name,
	      hdr ? "payload_len" : "tot_len", truelen - 1, failed);
}

/* --- the reject action: the RST XDP sends back -------------------------- */

/* Is out a RST|ACK answering the SYN in: same L2 path with MACs swapped,
 * addresses and ports swapped, seq 0, ack = seq + the segment's length
 * (RFC 9293 3.10.7.1: SYN and FIN count one each, plus data), no data,
 * checksums valid? */
static int rst_check(const struct pkt *in, const struct pkt_spec *s, const __u8 *out,
		     size_t len, char *why, size_t n)
{
	const __u8 *ip = out + in->l3, *iin = in->d + in->l3, *th, *tin = in->d + in->l4;
	size_t alen = s->fam == 4 ? 4 : 16, saddr = s->fam == 4 ? 12 : 8;
	__u32 ack = s->seq + 1 + s->payload + (s->flags & TH_FIN ? 1 : 0), sum;
	size_t hl = 40, seglen;

#define RST_FAIL(...) do { snprintf(why, n, __VA_ARGS__); return -EBADMSG; } while (0)
	if (len < in->l3 + 40)
		RST_FAIL("RST frame of %zu bytes", len);
	if (memcmp(out, in->d + 6, 6) || memcmp(out + 6, in->d, 6))
		RST_FAIL("MAC addresses not swapped");
	if (memcmp(out + 12, in->d + 12, in->l3 - 12))
		RST_FAIL("VLAN tags / ethertype changed");
	if (ip[0] >> 4 != s->fam)
		RST_FAIL("IP version %d", ip[0] >> 4);
	if (memcmp(ip + saddr, iin + saddr + alen, alen) ||
	    memcmp(ip + saddr + alen, iin + saddr, alen))
		RST_FAIL("IP addresses not swapped");
	if (s->fam == 4) {
		hl = (ip[0] & 0xf) * 4u;
		seglen = pkt_get16(ip + 2);
		if (hl < 20 || seglen < hl + 20 || in->l3 + seglen > len)
			RST_FAIL("ihl %zu, tot_len %zu in %zu bytes", hl, seglen, len);
		if (pkt_csum_fold(pkt_csum_add(0, ip, hl)))
			RST_FAIL("bad IPv4 header checksum");
		if (ip[9] != IPPROTO_TCP || !ip[8] || (pkt_get16(ip + 6) & 0x3fff))
			RST_FAIL("protocol %u, ttl %u, frag 0x%x", ip[9], ip[8], pkt_get16(ip + 6));
		seglen -= hl;
	} else {
		seglen = pkt_get16(ip + 4);
		if (ip[6] != IPPROTO_TCP || !ip[7] || seglen < 20 || in->l3 + 40 + seglen > len)
			RST_FAIL("next header %u, hop limit %u, payload_len %zu", ip[6], ip[7],
				 seglen);
	}
	th = ip + hl;
	if (pkt_get16(th) != pkt_get16(tin + 2) || pkt_get16(th + 2) != pkt_get16(tin))
		RST_FAIL("ports %u->%u not swapped", pkt_get16(th), pkt_get16(th + 2));
	if ((th[13] & 0x3f) != (TH_RST | TH_ACK))
		RST_FAIL("flags 0x%02x, want RST|ACK", th[13]);
	if (pkt_get32(th + 8) != ack || pkt_get32(th + 4) != 0)
		RST_FAIL("seq %u ack %u, want 0 and %u", pkt_get32(th + 4), pkt_get32(th + 8), ack);
	if ((th[12] >> 4) * 4u != seglen || seglen < 20)
		RST_FAIL("data offset %u in a %zu-byte segment (a RST carries no data)",
			 (th[12] >> 4) * 4u, seglen);
	sum = pkt_pseudo_sum(s->fam, ip + saddr, ip + saddr + alen, IPPROTO_TCP, seglen);
	if (pkt_csum_fold(pkt_csum_add(sum, th, seglen)))
		RST_FAIL("bad TCP checksum");
#undef RST_FAIL
	return 0;
}

static int config_set(const struct gate_config *cfg)
{
	__u32 key = 0;

	return bpf_map_update_elem(T.config_fd, &key, cfg, BPF_ANY) ? -errno : 0;
}

static void run_rows(const struct row *rows, size_t nrows, bool reject)
{
	static struct outcome o;
	static struct pkt p;

	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		if (pkt_build(&r->p, &p)) {
			CHECK(0, "%s: packet spec builds", r->name);
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(T.progs); k++) {
			const struct prog *g = &T.progs[k];
			enum rst_want rw = !reject || !g->xdp ? RST_NO :
					   r->flags & RST ? RST_YES :
					   r->flags & RST_MAY ? RST_EITHER : RST_NO;
			int shown = 0, err;
			char why[256];

			err = check_frame(g, r->name, p.d, p.len, r->want, rw, &o, &shown);
			if (!err && rw != RST_NO && o.retval == XDP_TX) {
				err = rst_check(&p, &r->p, o.out, o.out_len, why, sizeof(why));
				if (err) {
					printf("#   %s %s: %s\n", g->name, r->name, why);
					show_hex("frame", p.d, p.len);
					show_hex("answer", o.out, o.out_len);
				}
			}
			CHECK(!err, "%s: %s", g->name, r->name);
			if (r->flags & SWEEP_CUT)
				sweep_cut(g, r, &p);
			if (r->flags & SWEEP_LEN)
				sweep_len(g, r, &p);
		}
	}
}

/* --- the matrix: TCP flags x ports x sources, per family ----------------- */

static const struct {
	const char *name;
	const char *v4, *v6;
	unsigned want; /* for a new connection to a gated port */
} matrix_sources[] = {
	{ "unknown", PKT_SRC4, PKT_SRC6, C(drop_unauthorized) },
	{ "authorized", V4_AUTH, V6_AUTH, C(pass_authorized) },
	{ "expired", V4_EXP, V6_EXP, C(drop_expired) },
	{ "trusted", V4_TRUST, V6_TRUST, C(pass_trusted) },
	{ "trusted+expired", V4_TRUST_EXP, V6_TRUST_EXP, C(pass_trusted) },
};

/* 6400 and 56585 are 25 and 2525 byte-swapped: a missing ntohs gates them. */
static const __u16 matrix_ports[] = { 25, 465, 2525, 110, 143, 587, 993, 6400, 56585, 0 };

static const __u8 matrix_flags[] = {
	TH_SYN, TH_SYN | TH_ACK, TH_ACK, TH_RST, TH_FIN, TH_PSH | TH_ACK, TH_SYN | TH_FIN,
	TH_SYN | TH_RST, TH_SYN | TH_ECE | TH_CWR, TH_SYN | TH_PSH | TH_URG, 0,
	TH_FIN | TH_PSH | TH_URG, 0xff, TH_SYN | TH_ACK | TH_RST,
};

static bool port_gated(const struct gate_config *cfg, __u16 port)
{
	for (__u32 i = 0; i < cfg->nports && i < GATE_MAX_PORTS; i++)
		if (cfg->ports[i] == port)
			return true;
	return false;
}

static void run_matrix(const struct gate_config *cfg)
{
	static struct outcome o;
	static struct pkt p;

	for (int fam = 4; fam <= 6; fam += 2)
		for (size_t si = 0; si < ARRAY_SIZE(matrix_sources); si++)
			for (size_t k = 0; k < ARRAY_SIZE(T.progs); k++) {
				const struct prog *g = &T.progs[k];
				int shown = 0, failed = 0, runs = 0;

				for (size_t pi = 0; pi < ARRAY_SIZE(matrix_ports); pi++)
					for (size_t fi = 0; fi < ARRAY_SIZE(matrix_flags); fi++) {
						__u8 fl = matrix_flags[fi];
						struct pkt_spec s = {
							.fam = fam, .flags = fl,
							.dport = matrix_ports[pi],
							.src = fam == 4 ? matrix_sources[si].v4 :
									  matrix_sources[si].v6,
						};
						bool newconn = (fl & TH_SYN) && !(fl & TH_ACK);
						unsigned want = newconn && port_gated(cfg, s.dport) ?
							matrix_sources[si].want : C(not_gated);
						char label[64];

						snprintf(label, sizeof(label), "flags 0x%02x to :%u", fl,
							 s.dport);
						if (pkt_build(&s, &p)) {
							failed++;
							continue;
						}
						runs++;
						failed += check_frame(g, label, p.d, p.len, want, RST_NO,
								      &o, &shown) != 0;
					}
				CHECK(!failed, "%s: matrix v%d %s source: %d flag/port combinations (%d wrong)",
				      g->name, fam, matrix_sources[si].name, runs, failed);
			}
}

/* --- setup ------------------------------------------------------------------ */

static __u64 boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Sets addr's bit in gate_seen; with bit_was, tells whether it was set. */
static int seen_mark(const char *addr, bool *bit_was)
{
	struct gate_addr key;
	struct in6_addr a;

	if (addr_parse(addr, &a))
		return -EINVAL;
	memcpy(key.addr, &a, sizeof(key.addr));
	return seen_bit(bpf_map__fd(T.skel->maps.gate_seen), &key, SEEN_SEED, SEEN_LOG2, bit_was);
}

static int maps_fill(void)
{
	int auth = bpf_map__fd(T.skel->maps.gate_auth);
	int trust = bpf_map__fd(T.skel->maps.gate_trust);
	__u64 now = boottime_ns();
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(auth_entries); i++) {
		struct gate_auth v = { .authorized_ns = now, .user = "alice" };
		struct gate_addr key;
		struct in6_addr a;

		if (addr_parse(auth_entries[i].addr, &a))
			return -EINVAL;
		if (strcmp(auth_entries[i].addr, V4_UNSEEN) && (err = seen_mark(auth_entries[i].addr, NULL)))
			return err;
		memcpy(key.addr, &a, sizeof(key.addr));
		v.expires_ns = auth_entries[i].exp == VALID ? now + 3600ull * 1000000000ull :
			       auth_entries[i].exp == EXPIRED ? now - 1000000000ull : 0;
		if (bpf_map_update_elem(auth, &key, &v, BPF_NOEXIST))
			return -errno;
	}
	for (size_t i = 0; i < ARRAY_SIZE(trust_entries); i++) {
		struct gate_prefix key;
		struct in6_addr a;
		unsigned plen;
		__u8 one = 1;

		if (prefix_parse(trust_entries[i], &a, &plen))
			return -EINVAL;
		key.prefixlen = plen;
		memcpy(key.addr, &a, sizeof(key.addr));
		if (bpf_map_update_elem(trust, &key, &one, BPF_NOEXIST))
			return -errno;
	}
	return seen_mark(V4_STALE, NULL);
}

static int setup(void)
{
	struct bpf_map *map;
	int err;

	T.skel = gate_bpf__open();
	if (!T.skel)
		return -errno;
	/* never touch the real pins of a running popgated */
	bpf_object__for_each_map(map, T.skel->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	/* a preallocated million-entry hash is not needed to hold ten */
	err = bpf_map__set_max_entries(T.skel->maps.gate_auth, 64);
	if (!err)
		err = bpf_map__set_max_entries(T.skel->maps.gate_seen, 1u << (SEEN_LOG2 - 6));
	if (err)
		return err;
	err = gate_bpf__load(T.skel);
	if (err)
		return err;
	T.ncpus = libbpf_num_possible_cpus();
	if (T.ncpus <= 0)
		return T.ncpus ? T.ncpus : -EINVAL;
	T.percpu = calloc((size_t)T.ncpus, sizeof(struct gate_stats));
	if (!T.percpu)
		return -ENOMEM;
	T.stats_fd = bpf_map__fd(T.skel->maps.gate_stats);
	T.config_fd = bpf_map__fd(T.skel->maps.gate_config);
	T.progs[0] = (struct prog){ "xdp", bpf_program__fd(T.skel->progs.popgate_xdp), XDP_PASS,
				    XDP_DROP, true };
	T.progs[1] = (struct prog){ "tc", bpf_program__fd(T.skel->progs.popgate_tc),
				    TC_ACT_UNSPEC, TC_ACT_SHOT, false };
	return maps_fill();
}

/* The reject block runs only if the object implements it: a SYN from an
 * unknown source under action reject comes back as XDP_TX. */
static void run_reject(void)
{
	static struct outcome o;
	static struct pkt p;
	int err;

	err = config_set(&cfg_reject);
	if (!CHECK(!err, "config: action reject written"))
		return;
	err = pkt_build(&rows_reject[0].p, &p) ?: run(&T.progs[0], p.d, p.len, &o);
	if (err || o.retval != XDP_TX) {
		CHECK(1, "reject: %zu rows # SKIP object has no action reject (XDP returned %d)",
		      ARRAY_SIZE(rows_reject), err ? err : (int)o.retval);
		return;
	}
	run_rows(rows_reject, ARRAY_SIZE(rows_reject), true);
}

int main(void)
{
	struct in6_addr a;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = setup();
	if (!CHECK(!err, "gate object opened unpinned, loaded, maps filled (%s)",
		   err ? strerror(-err) : "ok")) {
		gate_bpf__destroy(T.skel);
		return tap_done();
	}
	/* the rows_seen rely on these bits: clear for the key left out (and the
	 * sources that must be screened), set for the stale one */
	bool unseen = true, stale = false, trust4 = true, unknown4 = true;

	CHECK(!seen_mark(V4_UNSEEN, &unseen) && !unseen && !seen_mark(V4_STALE, &stale) &&
		      stale && !seen_mark(V4_TRUST, &trust4) && !trust4 &&
		      !seen_mark(PKT_SRC4, &unknown4) && !unknown4,
	      "gate_seen: bit clear for " V4_UNSEEN ", " V4_TRUST ", " PKT_SRC4 "; set for " V4_STALE);
	/* the contract the rows rely on: IPv4 keys are ::ffff:a.b.c.d */
	CHECK(!addr_parse(V4_AUTH, &a) && IN6_IS_ADDR_V4MAPPED(&a) &&
		      !memcmp(&a.s6_addr[12], "\xc0\x00\x02\x0a", 4),
	      "contract: " V4_AUTH " is keyed ::ffff:c000:20a");

	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		const struct section *sec = &sections[i];

		if (!CHECK(!config_set(&sec->cfg), "config: %s written", sec->name))
			continue;
		run_rows(sec->rows, sec->nrows, false);
		if (sec->matrix)
			run_matrix(&sec->cfg);
	}
	run_reject();
	printf("# %lu packets run through BPF_PROG_TEST_RUN\n", T.runs);

	gate_bpf__destroy(T.skel);
	free(T.percpu);
	return tap_done();
}
