/*
 * latency_probe.h - what latency_probe.bpf.c reports to bench_latency: a
 * successful BPF_MAP_UPDATE_ELEM by the process under test, with the first
 * 16 bytes of its key (gate_auth's key is an address) and the
 * CLOCK_MONOTONIC instant the call returned, when the entry is visible.
 */
#ifndef POPGATE_LATENCY_PROBE_H
#define POPGATE_LATENCY_PROBE_H
#include <linux/types.h>

struct latency_event {
	__u64 ts_ns;
	__u8 key[16];
};
#endif
