// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flood_gen.bpf.c - the SYN flood of `make bench`, made in the kernel.
 *
 * flood_gen is run by flood_gen.c with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on the sender's veth. Each run takes the
 * template frame (an IPv6 SYN with MSS option to the relay's port 25), gives
 * it a new source address, source port and sequence number, writes the TCP
 * checksum and returns XDP_TX, which test_run turns into a redirect out of
 * the same veth. The receiver so gets xdp_frames in its NAPI ring, as from a
 * NIC, and its XDP program (native mode) sees them before any skb exists. A
 * generator built on AF_PACKET would hand over skbs and hide exactly the
 * difference being measured.
 *
 * The page pool behind LIVE_FRAMES initialises a page from the template
 * once and then recycles it with whatever the last run left in it, so every
 * varying field is written on every run and the checksum is computed from a
 * constant (base_sum), never patched from the frame's previous value.
 *
 * flood_sink drops every IPv6 TCP SYN from or to the flood's /64. On the
 * sender's veth it drops what the receiver answers to the flood sources
 * (SYN-ACKs when nothing filters), so the sender's stack does not spend CPU
 * on them. On the receiver's veth it is the cheapest stateless filter, the
 * floor under every XDP figure: what receiving a frame and reading its
 * headers costs at all, before any decision.
 *
 * rx_meter_enter/rx_meter_exit time the NET_RX softirq on meter_cpu: where
 * the receiver's NAPI runs when it is not threaded (see
 * tests/bench/README.md, "Receiver"). The kernel here has no
 * IRQ_TIME_ACCOUNTING, so /proc/stat's softirq column is only sampled at
 * the tick; these two tracepoints give every run's length in ns.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before load. */
const volatile __u32 src_mask = 0xffff; /* sources: prefix + (0..mask) */
const volatile __u32 base_sum;          /* one's-complement sum of the TCP
					 * pseudo-header and header with the
					 * varying fields and checksum zero */
const volatile __u64 sink_prefix;       /* first 8 bytes of the flood /64 */

const volatile __u32 meter_cpu;

/* Frames made; one CPU runs the generator, so a plain increment is exact. */
__u64 made;

/* NET_RX softirq on meter_cpu: its runs and their total length. Only that
 * CPU writes them, and a softirq does not nest in itself. */
__u64 rx_softirq_ns, rx_softirq_runs, rx_softirq_since;

#define NET_RX_SOFTIRQ 3 /* include/linux/interrupt.h, stable since 2.6 */

struct frame {
	struct ethhdr eth;
	struct ipv6hdr ip6;
	struct tcphdr tcp;
} __attribute__((packed));

static __always_inline __u32 add16(__u32 sum, __u32 v)
{
	return sum + (v >> 16) + (v & 0xffff);
}

SEC("xdp")
int flood_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct frame *f = data;
	__u32 n, host, seq, sum;
	__u16 sport;

	if ((void *)(f + 1) > end)
		return XDP_ABORTED;
	n = (__u32)made++;
	/* Multiplying by an odd constant permutes 0..2^32-1: every source
	 * comes once per src_mask+1 frames, in an order no cache predicts. */
	host = (n * 2654435761u) & src_mask;
	sport = 1024 + (n & 0x7fff);
	seq = n * 0x9e3779b9u;

	f->ip6.saddr.in6_u.u6_addr32[3] = bpf_htonl(host);
	f->tcp.source = bpf_htons(sport);
	f->tcp.seq = bpf_htonl(seq);
	sum = add16(add16(base_sum + sport, host), seq);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	f->tcp.check = bpf_htons((__u16)~sum);
	return XDP_TX;
}

SEC("xdp")
int flood_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct frame *f = data;
	__u64 src_hi, dst_hi;

	/* Read as far as the gate reads (the TCP flags): the frame's second
	 * cache line is part of the floor, not of what a filter adds. */
	if ((void *)(f + 1) > end || f->eth.h_proto != bpf_htons(ETH_P_IPV6) ||
	    f->ip6.nexthdr != IPPROTO_TCP || !f->tcp.syn)
		return XDP_PASS;
	__builtin_memcpy(&src_hi, &f->ip6.saddr, sizeof(src_hi));
	__builtin_memcpy(&dst_hi, &f->ip6.daddr, sizeof(dst_hi));
	return src_hi == sink_prefix || dst_hi == sink_prefix ? XDP_DROP : XDP_PASS;
}

/* raw_tp/softirq_entry and _exit: the context's only argument is vec_nr. */
static __always_inline int rx_meter_mine(__u64 *ctx)
{
	return ctx[0] == NET_RX_SOFTIRQ && bpf_get_smp_processor_id() == meter_cpu;
}

SEC("raw_tp/softirq_entry")
int rx_meter_enter(__u64 *ctx)
{
	if (rx_meter_mine(ctx))
		rx_softirq_since = bpf_ktime_get_ns();
	return 0;
}

SEC("raw_tp/softirq_exit")
int rx_meter_exit(__u64 *ctx)
{
	/* A run already under way when the meter was attached is not counted. */
	if (rx_meter_mine(ctx) && rx_softirq_since) {
		rx_softirq_ns += bpf_ktime_get_ns() - rx_softirq_since;
		rx_softirq_runs++;
		rx_softirq_since = 0;
	}
	return 0;
}
