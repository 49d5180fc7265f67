// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gate.bpf.c - the popgate data path: parse -> decide -> count.
 *
 * A TCP segment with SYN and without ACK to a gated port is a new SMTP
 * connection. It passes when its source is authorized (gate_auth, expiry in
 * the future by CLOCK_BOOTTIME; gate_seen screens it first) or trusted
 * (gate_trust); otherwise it is dropped. Everything else passes, so
 * sessions opened while authorized survive expiry and POP3/IMAP stay
 * reachable.
 *
 * Parsing rules that keep the gate closed (see README "Security model"):
 *  - A packet the stack will drop by itself (truncated, bad IP header) passes:
 *    it cannot open a connection, and dropping it could hurt other traffic.
 *  - A fragment that could carry or rewrite the TCP ports/flags is dropped:
 *    a first fragment without a complete TCP header, and a non-first
 *    fragment at offset 8 or 16 (RFC 1858 tiny/overlapping fragments).
 *    Later fragments pass: without their first fragment they never
 *    reassemble into anything.
 *  - An IPv6 header chain longer than we walk is dropped: the stack would
 *    walk it and could find a SYN we never saw.
 *  - Header lengths are bounded by the IP length fields, not only by the
 *    frame: bytes in Ethernet padding are not part of the packet.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "gate.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * No preallocation: only userspace inserts, and an operator sizing the map
 * for a million customers should not pay for a million entries up front.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GATE_AUTH_MAX_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct gate_addr);
	__type(value, struct gate_auth);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gate_auth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, GATE_TRUST_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct gate_prefix);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gate_trust SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gate_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gate_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GATE_SEEN_WORDS_DEFAULT); /* sized by userspace */
	__uint(map_flags, BPF_F_MMAPABLE); /* userspace sets a bit without a syscall */
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gate_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gate_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gate_stats SEC(".maps");

#define VLAN_MAX 2
#define IPV6_EXT_MAX 8
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IP6_OFFSET 0xfff8
#define IP6_MF 0x0001
/* A non-first fragment below this offset (in 8-byte units) overlaps TCP
 * bytes 0..19, where the ports and flags live. */
#define FRAG_MIN_SAFE_OFFSET 3
#define TCP_MIN_LEN 20

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

/* Where the TCP header is, once the network layer is parsed. */
struct l4 {
	void *tcp;
	void *limit;       /* end of the IP packet as the stack will see it */
	bool first_frag;   /* more fragments follow this one */
};

static __always_inline bool is_ipv6_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH;
}

/*
 * Bytes [p, p+n) are inside the frame and the IP packet. When they are not:
 * a fragment that leaves the TCP header to a later fragment is dropped; a
 * header the stack will find truncated passes; a header cut off by the
 * linear part of an skb (tc) that the packet does have is unparsable.
 */
static __always_inline int need(void *p, __u32 n, void *end, void *limit,
				bool first_frag, bool beyond_end)
{
	if (p + n <= end && p + n <= limit)
		return -1;
	if (first_frag)
		return GATE_drop_fragment;
	if (p + n > end && beyond_end && p + n <= limit)
		return GATE_drop_unparsable;
	return GATE_pass_malformed;
}

static __always_inline int parse_ipv4(void *pos, void *end, bool beyond_end,
				      struct gate_addr *src, struct l4 *l4)
{
	struct iphdr *ip = pos;
	__u32 hlen, tot;
	__u16 frag;

	if ((void *)(ip + 1) > end)
		return beyond_end ? GATE_drop_unparsable : GATE_pass_malformed;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || hlen < sizeof(*ip) || hlen > tot)
		return GATE_pass_malformed;
	if (ip->protocol != IPPROTO_TCP)
		return GATE_not_gated;
	frag = bpf_ntohs(ip->frag_off);
	if (frag & IP_OFFSET)
		return (frag & IP_OFFSET) < FRAG_MIN_SAFE_OFFSET ? GATE_drop_fragment
								 : GATE_not_gated;
	l4->first_frag = frag & IP_MF;
	l4->tcp = pos + hlen;
	l4->limit = pos + tot;
	/* ::ffff:a.b.c.d, each half in one 8-byte store: the screen's hash
	 * reads the key back in halves, and a load spanning several smaller
	 * stores cannot be forwarded from them (a stall of some 5 ns). */
	__u8 mapped[8] = { 0, 0, 0xff, 0xff };
	__builtin_memcpy(&mapped[4], &ip->saddr, 4);
	__builtin_memset(src->addr, 0, 8);
	__builtin_memcpy(&src->addr[8], mapped, 8);
	return -1;
}

/*
 * The verifier follows every combination of header kinds in the walk as its
 * own state, because each leaves a slightly different range for the offset:
 * exponential in IPV6_EXT_MAX (a million instructions and seconds to load).
 * Dividing by a 1 it cannot see through makes it forget the range, so all
 * paths meet in one state; the mask then gives back the bound it needs for
 * packet access. Offsets never exceed 40 + 8 * 2048, so the mask changes no
 * value, and neither does the division.
 */
#define IPV6_WALK_MASK 0x7ffc

static __always_inline __u32 forget_bounds(__u32 v)
{
	__u64 x = v, one = 1;

	asm volatile("%[x] /= %[one]" : [x] "+r"(x) : [one] "r"(one));
	return (__u32)x;
}

static __always_inline int parse_ipv6(void *pos, void *end, bool beyond_end,
				      struct gate_addr *src, struct l4 *l4)
{
	struct ipv6hdr *ip6 = pos;
	__u32 plen, off = sizeof(*ip6);
	__u8 nh;
	int v;

	if ((void *)(ip6 + 1) > end)
		return beyond_end ? GATE_drop_unparsable : GATE_pass_malformed;
	if (ip6->version != 6)
		return GATE_pass_malformed;
	plen = bpf_ntohs(ip6->payload_len);
	/* Payload length 0 is a jumbogram: its real length is the frame's. */
	l4->limit = plen ? (void *)(ip6 + 1) + plen : end;
	l4->first_frag = false;
	nh = ip6->nexthdr;

	/* One round more than headers walked: it only looks at what follows
	 * the last one. */
	for (int i = 0; i <= IPV6_EXT_MAX; i++) {
		__u8 *h;
		__u32 len;

		if (nh == IPPROTO_TCP)
			break;
		if (!is_ipv6_ext(nh))
			return GATE_not_gated;
		if (i == IPV6_EXT_MAX)
			return GATE_drop_unparsable;
		/* Hidden from clang, which would drop it as a no-op. */
		asm volatile("%0 &= %1" : "+r"(off) : "i"(IPV6_WALK_MASK));
		h = pos + off;
		v = need(h, 8, end, l4->limit, l4->first_frag, beyond_end);
		if (v >= 0)
			return v;
		if (nh == IPPROTO_FRAGMENT) {
			struct ipv6_frag *fh = (void *)h;
			__u16 fo = bpf_ntohs(fh->frag_off);

			if (fo & IP6_OFFSET) {
				if ((fo >> 3) < FRAG_MIN_SAFE_OFFSET &&
				    (fh->nexthdr == IPPROTO_TCP || is_ipv6_ext(fh->nexthdr)))
					return GATE_drop_fragment;
				return GATE_not_gated;
			}
			/* Offset 0 without M is an atomic fragment: a whole packet,
			 * but it cannot undo an earlier fragment header's M. */
			l4->first_frag |= fo & IP6_MF;
			len = 8;
		} else if (nh == IPPROTO_AH) {
			len = ((__u32)h[1] + 2) * 4;
		} else {
			len = ((__u32)h[1] + 1) * 8;
		}
		nh = h[0];
		off = forget_bounds(off + len);
	}
	if (nh != IPPROTO_TCP)
		return GATE_drop_unparsable;
	asm volatile("%0 &= %1" : "+r"(off) : "i"(IPV6_WALK_MASK));
	l4->tcp = pos + off;
	__builtin_memcpy(src->addr, &ip6->saddr, 16);
	return -1;
}

/* Where a refused SYN's headers are, for answering it with a RST. */
struct refusal {
	__u32 l3_off;      /* counted, not pointer-subtracted: the verifier keeps its bounds */
	bool simple;       /* TCP right after the fixed IP header */
	bool v6;
	bool reject;       /* the configured action is reject */
};

/* Whether gate_auth may hold src: false only when gate_seen proves it does not. */
static __always_inline bool maybe_authorized(const struct gate_config *cfg,
					     const struct gate_addr *src)
{
	__u32 h, w;
	__u64 *word;

	if (!gate_seen_on(cfg))
		return true;
	h = gate_seen_hash(src, cfg->seen_seed, cfg->seen_bits_log2);
	w = h / 64;
	word = bpf_map_lookup_elem(&gate_seen, &w);
	return !word || (*word >> (h % 64)) & 1;
}

/* The decision: returns the counter that describes what happened. */
static __always_inline int gate_decide(void *data, void *end, bool beyond_end,
				       struct refusal *rf)
{
	struct gate_config *cfg;
	struct gate_auth *auth;
	struct gate_addr src;
	struct ethhdr *eth = data;
	struct tcphdr *th;
	struct l4 l4;
	bool expired = false, gated = false, syn_only;
	void *pos;
	__u16 proto, dport;
	__u32 zero = 0, l3_off;
	int v;

	if ((void *)(eth + 1) > end)
		return GATE_pass_malformed;
	proto = eth->h_proto;
	pos = eth + 1;
	l3_off = sizeof(*eth);
#pragma unroll
	for (int i = 0; i < VLAN_MAX; i++) {
		struct vlan_hdr *vh = pos;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return GATE_pass_malformed;
		proto = vh->encap_proto;
		pos = vh + 1;
		l3_off += sizeof(*vh);
	}

	if (proto == bpf_htons(ETH_P_IP))
		v = parse_ipv4(pos, end, beyond_end, &src, &l4);
	else if (proto == bpf_htons(ETH_P_IPV6))
		v = parse_ipv6(pos, end, beyond_end, &src, &l4);
	else
		return GATE_not_gated;
	if (v >= 0)
		return v;

	v = need(l4.tcp, TCP_MIN_LEN, end, l4.limit, l4.first_frag, beyond_end);
	if (v >= 0)
		return v;
	/*
	 * Everything needed from the packet is read here, into scalars: no
	 * packet pointer stays live below, so the verifier can merge the many
	 * parse paths (each with its own pointer range) into few states.
	 */
	th = l4.tcp;
	syn_only = th->syn && !th->ack;
	dport = bpf_ntohs(th->dest);
	rf->simple = l4.tcp == pos + (proto == bpf_htons(ETH_P_IPV6) ? sizeof(struct ipv6hdr)
								       : sizeof(struct iphdr));
	if (!syn_only)
		return GATE_not_gated;

	cfg = bpf_map_lookup_elem(&gate_config, &zero);
	if (!cfg)
		return GATE_not_gated;
	/* No early exit: one path through the loop, whichever port matched. */
#pragma unroll
	for (__u32 i = 0; i < GATE_MAX_PORTS; i++)
		gated |= i < cfg->nports && cfg->ports[i] == dport;
	if (!gated)
		return GATE_not_gated;
	rf->l3_off = l3_off;
	rf->v6 = proto == bpf_htons(ETH_P_IPV6);
	rf->reject = cfg->action == GATE_ACTION_REJECT;

	/* One lookup call site for both families keeps it inlined. */
	auth = maybe_authorized(cfg, &src) ? bpf_map_lookup_elem(&gate_auth, &src) : NULL;
	if (auth) {
		/* Read only on a hit. The coarse clock costs a third of the
		 * precise ones; a tick late is nothing against a 15-minute window. */
		if (bpf_ktime_get_coarse_ns() + cfg->boot_offset_ns < auth->expires_ns)
			return GATE_pass_authorized;
		expired = true;
	}
	if (cfg->has_trust) {
		struct gate_prefix key = { .prefixlen = 128 };

		__builtin_memcpy(key.addr, src.addr, 16);
		if (bpf_map_lookup_elem(&gate_trust, &key))
			return GATE_pass_trusted;
	}
	return expired ? GATE_drop_expired : GATE_drop_unauthorized;
}

static __always_inline bool is_drop(int v)
{
	return v == GATE_drop_unauthorized || v == GATE_drop_expired ||
	       v == GATE_drop_fragment || v == GATE_drop_unparsable;
}

static __always_inline void count(int v)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&gate_stats, &zero);

	if (c && v >= 0 && v < GATE_COUNTER_MAX)
		c[v]++;
}

static __always_inline __u16 csum_fold(__s64 sum)
{
	__u64 s = (__u64)sum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

struct pseudo4 {
	__be32 saddr, daddr;
	__u8 zero, proto;
	__be16 len;
};

struct pseudo6 {
	__u8 saddr[16], daddr[16];
	__be32 len;
	__u8 zero[3], nexthdr;
};

#define RST_TTL 64
#define L3_MAX_OFF (sizeof(struct ethhdr) + VLAN_MAX * sizeof(struct vlan_hdr))

/*
 * Turn the refused SYN into its RST|ACK answer in place and send it back
 * out (RFC 9293: seq 0, ack = their seq + SYN + data). Only for headers
 * without IPv4 options or IPv6 extension headers, which no real client SYN
 * has; anything else is simply dropped.
 */
static __always_inline int rst_reply(struct xdp_md *ctx, const struct refusal *rf)
{
	__u32 l3 = rf->l3_off, l3_len = rf->v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 seg, seq, hlen;
	__u8 mac[ETH_ALEN];
	struct ethhdr *eth;
	struct tcphdr *th;
	__s64 sum;
	void *ip;

	if (l3 > L3_MAX_OFF || !rf->simple)
		return -1;
	ip = data + l3;
	if (ip + l3_len + sizeof(*th) > end)
		return -1;
	th = ip + l3_len;
	/* A segment carrying RST is never answered with one (RFC 9293). */
	if (th->rst)
		return -1;
	seg = rf->v6 ? bpf_ntohs(((struct ipv6hdr *)ip)->payload_len)
		     : bpf_ntohs(((struct iphdr *)ip)->tot_len) - sizeof(struct iphdr);
	hlen = th->doff * 4;
	/* SYN and FIN count one each, data carried (TCP Fast Open) the rest. */
	seq = bpf_ntohl(th->seq) + th->syn + th->fin + (seg > hlen ? seg - hlen : 0);
	if (bpf_xdp_adjust_tail(ctx, (int)(l3 + l3_len + sizeof(*th)) - (int)(end - data)))
		return -1;

	/* The tail moved: every packet pointer must be derived and checked anew. */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	ip = data + l3;
	if ((void *)(eth + 1) > end || ip + l3_len + sizeof(*th) > end)
		return -1;
	th = ip + l3_len;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	__be16 sport = th->source;
	th->source = th->dest;
	th->dest = sport;
	th->ack_seq = bpf_htonl(seq);
	th->seq = 0;
	((__u8 *)th)[12] = 5 << 4;          /* data offset 5, no options */
	((__u8 *)th)[13] = 0x14;            /* RST | ACK */
	th->window = 0;
	th->check = 0;
	th->urg_ptr = 0;

	if (rf->v6) {
		struct ipv6hdr *ip6 = ip;
		struct pseudo6 ph = { .len = bpf_htonl(sizeof(*th)), .nexthdr = IPPROTO_TCP };

		__builtin_memcpy(ph.daddr, &ip6->saddr, 16);
		__builtin_memcpy(ph.saddr, &ip6->daddr, 16);
		__builtin_memcpy(&ip6->saddr, ph.saddr, 16);
		__builtin_memcpy(&ip6->daddr, ph.daddr, 16);
		ip6->payload_len = bpf_htons(sizeof(*th));
		ip6->hop_limit = RST_TTL;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		struct iphdr *ip4 = ip;
		struct pseudo4 ph = { .proto = IPPROTO_TCP, .len = bpf_htons(sizeof(*th)) };

		ph.saddr = ip4->daddr;
		ph.daddr = ip4->saddr;
		ip4->saddr = ph.saddr;
		ip4->daddr = ph.daddr;
		ip4->tot_len = bpf_htons(sizeof(*ip4) + sizeof(*th));
		ip4->ttl = RST_TTL;
		ip4->id = 0;
		ip4->frag_off = bpf_htons(0x4000); /* DF */
		ip4->check = 0;
		ip4->check = csum_fold(bpf_csum_diff(NULL, 0, (__be32 *)ip4, sizeof(*ip4), 0));
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	}
	th->check = csum_fold(bpf_csum_diff(NULL, 0, (__be32 *)th, sizeof(*th), sum));
	return 0;
}

SEC("xdp")
int popgate_xdp(struct xdp_md *ctx)
{
	struct refusal rf = {};
	int v = gate_decide((void *)(long)ctx->data, (void *)(long)ctx->data_end, false, &rf);

	count(v);
	/* A refused client learns at once instead of waiting for its timeout. */
	if (rf.reject && (v == GATE_drop_unauthorized || v == GATE_drop_expired) &&
	    rst_reply(ctx, &rf) == 0) {
		count(GATE_reject_sent);
		return XDP_TX;
	}
	return is_drop(v) ? XDP_DROP : XDP_PASS;
}

/* Headers beyond this many bytes are not looked at in tc (see need()). */
#define TC_PULL_LEN 512

SEC("tc")
int popgate_tc(struct __sk_buff *skb)
{
	__u32 want = skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN;
	int v;

	/* The headers may sit outside the skb's linear part; bring them in. */
	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
	/* tc drops even with action reject: an RST would need a clone and a
	 * redirect, and a drop is never wrong. */
	struct refusal rf;

	v = gate_decide((void *)(long)skb->data, (void *)(long)skb->data_end,
			skb->len > skb->data_end - skb->data, &rf);
	count(v);
	/* UNSPEC, not OK: let any later filter on the hook have its say. */
	return is_drop(v) ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}
