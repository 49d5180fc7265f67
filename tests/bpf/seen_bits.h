/*
 * seen_bits.h - a key's bit in a gate_seen map, located as gate_auth_set()
 * and the program locate it (gate_seen_hash, bpf/gate.h), read or set
 * through the map's fd. Shared by the BPF tests that write the screen by
 * hand.
 *
 *   seen_bit(fd, key, seed, bits_log2, &was)   *was = the bit; 0 or -errno
 *   seen_bit(fd, key, seed, bits_log2, NULL)   sets it;        0 or -errno
 */
#ifndef POPGATE_SEEN_BITS_H
#define POPGATE_SEEN_BITS_H
#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>

#include "gate.h"

static inline int seen_bit(int fd, const struct gate_addr *key, __u64 seed, __u32 bits_log2,
			   bool *was)
{
	__u32 h = gate_seen_hash(key, seed, bits_log2), w = h / 64;
	__u64 word;

	if (bpf_map_lookup_elem(fd, &w, &word))
		return -errno;
	if (was) {
		*was = (word >> (h % 64)) & 1;
		return 0;
	}
	word |= 1ull << (h % 64);
	return bpf_map_update_elem(fd, &w, &word, BPF_ANY) ? -errno : 0;
}
#endif
