/*
 * bpf_log.h - libbpf's messages through msg(), at levels that fit: its
 * warnings (a verifier log when a load fails) stay warnings; netlink's
 * "Kernel error message" lines, which attach.c handles (a missing or existing
 * clsact qdisc), and libbpf's info chatter are debug.
 */
#ifndef POPGATE_BPF_LOG_H
#define POPGATE_BPF_LOG_H
void bpf_log_init(void);
#endif
