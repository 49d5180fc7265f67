// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_progs.bpf.c - the yardsticks of bench_xdp_cost.
 *
 * xdp_empty / tc_empty: do nothing, measured exactly like the gate, so that
 * the harness's own cost (the test_run loop, the call) is subtracted.
 *
 * xdp_spray: gives the IPv6 test frame a new source address on every run,
 * then tail-calls slot 0 of `target` (the gate's popgate_xdp, or xdp_empty
 * for the reference). test_run repeats one frame, so without this every
 * lookup after the first would hit the same warm bucket; with it, a
 * million-entry map is walked in an order no cache or prefetcher follows,
 * and the gate's own code is run unchanged (no copy of its logic here).
 * Source i is spray_prefix (12 bytes) + (i * 2654435761 mod spray_n): a
 * permutation of 0..spray_n-1, since that odd prime shares no factor with
 * any spray_n we use. bench_xdp_cost sets the variables between runs.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

__u8 spray_prefix[12];
__u32 spray_n = 1;
/* Runs so far; test_run keeps to one CPU, so a plain increment is exact. */
__u64 spray_count;

SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("tc")
int tc_empty(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_UNSPEC;
}

SEC("xdp")
int xdp_spray(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	__u32 host;

	if ((void *)(ip6 + 1) > end)
		return XDP_ABORTED;
	host = (__u32)(spray_count++ * 2654435761ull % spray_n);
	__builtin_memcpy(&ip6->saddr, spray_prefix, sizeof(spray_prefix));
	ip6->saddr.in6_u.u6_addr32[3] = bpf_htonl(host);
	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED; /* the slot was empty */
}
