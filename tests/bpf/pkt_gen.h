/*
 * pkt_gen.h - random and mutated Ethernet frames for test_bpf_diff.
 *
 * Frames are mostly well-formed TCP/IP with something odd about them, so
 * that they reach deep into the parser: 0..3 VLAN tags, IPv4 options and
 * fragments, IPv6 chains of 0..10 extension headers of every kind, every
 * TCP flag byte, ports and sources biased to the ones the scenario gates
 * and knows, IP length fields shorter or longer than the frame, bad
 * versions and header lengths; then some are cut at or near a header
 * boundary, padded, have bytes overwritten, or are random bytes outright.
 *
 * Frame number i of a seed depends only on (seed, i), so a mismatch found
 * deep in a long run is reproduced by generating that one frame.
 */
#ifndef POPGATE_PKT_GEN_H
#define POPGATE_PKT_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "gate.h"

#define PKT_GEN_MAX 1600 /* longest frame made: one page holds it in test_run */

struct pkt_gen {
	uint64_t seed;
	const struct gate_addr *srcs; /* source addresses to favour; IPv4 as */
	size_t nsrcs;                 /* ::ffff:a.b.c.d */
	size_t min_len;               /* shortest frame to make */
};

/* Writes frame number index into buf (PKT_GEN_MAX bytes); its length. */
size_t pkt_gen_frame(const struct pkt_gen *g, uint64_t index, __u8 *buf);

#endif
