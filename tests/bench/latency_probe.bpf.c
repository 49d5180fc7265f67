// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * latency_probe.bpf.c - when a login's address enters gate_auth, for
 * bench_latency, stamped by the kernel.
 *
 * Looking the address up in a loop would keep one of this machine's two
 * CPUs busy: the daemon's processes are then woken on the other, idle one,
 * which on a virtual machine is the slowest step there is, and the figure
 * would be the loop's as much as the daemon's. Instead the raw system-call
 * tracepoints watch the process under test (target_tgid): a bpf(2)
 * BPF_MAP_UPDATE_ELEM remembers its key on entry, and on a successful
 * return the key and bpf_ktime_get_ns() go to a ring buffer. The writer
 * sleeps between logins and the stamp is taken where the entry became
 * visible, whenever bench_latency reads it (every millisecond). Raw tracepoints need no tracefs.
 * x86_64 (the registers of the system call's arguments).
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <asm/ptrace.h>
#include <asm/unistd.h>
#include <stdbool.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>

#include "latency_probe.h"

/* The process under test, as its own PID namespace numbers it (a container's
 * PIDs are not the host's): the namespace is given by its nsfs device and
 * inode, from stat() of /proc/self/ns/pid. */
const volatile __u32 target_tgid;
const volatile __u64 pidns_dev, pidns_ino;

/* The calling thread's pid and tgid in that namespace; false outside it. */
static __always_inline bool under_test(__u32 *tid)
{
	struct bpf_pidns_info ns;

	if (bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof(ns)) ||
	    ns.tgid != target_tgid)
		return false;
	*tid = ns.pid;
	return true;
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Updates under way, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct latency_event);
} inflight SEC(".maps");

SEC("raw_tp/sys_enter")
int latency_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	struct latency_event ev = {};
	unsigned long cmd, uattr;
	__u64 key;
	__u32 tid;

	if (ctx->args[1] != __NR_bpf || !under_test(&tid))
		return 0;
	if (bpf_probe_read_kernel(&cmd, sizeof(cmd), &regs->rdi) || cmd != BPF_MAP_UPDATE_ELEM ||
	    bpf_probe_read_kernel(&uattr, sizeof(uattr), &regs->rsi) ||
	    bpf_probe_read_user(&key, sizeof(key), (void *)(uattr + offsetof(union bpf_attr, key))) ||
	    bpf_probe_read_user(ev.key, sizeof(ev.key), (void *)key))
		return 0;
	bpf_map_update_elem(&inflight, &tid, &ev, BPF_ANY);
	return 0;
}

SEC("raw_tp/sys_exit")
int latency_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct latency_event *ev;
	__u32 tid;

	if (!under_test(&tid))
		return 0;
	ev = bpf_map_lookup_elem(&inflight, &tid);
	if (!ev)
		return 0;
	if ((long)ctx->args[1] == 0) {
		ev->ts_ns = bpf_ktime_get_ns();
		/* No wake-up: it would be an interrupt and a remote wake-up
		 * charged to the process under test. bench_latency reads the
		 * ring every millisecond; the stamp is taken here either way. */
		bpf_ringbuf_output(&events, ev, sizeof(*ev), BPF_RB_NO_WAKEUP);
	}
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
