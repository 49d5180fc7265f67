/*
 * gate_maps.h - the pinned state of one popgate instance.
 *
 * A pin directory (default /sys/fs/bpf/popgate, mode 0700) holds the five
 * maps of bpf/gate.h and the attachments (see attach.h). gate_state_create()
 * loads the BPF object once so the maps exist (reusing any already pinned:
 * authorizations survive upgrades and restarts) and writes the default
 * configuration if none is set; gate_maps_open() opens existing pins.
 * Addresses are struct in6_addr with IPv4 mapped (addr.h); times are
 * CLOCK_BOOTTIME nanoseconds (gate_now_ns()). All calls return 0 or -errno.
 */
#ifndef POPGATE_GATE_MAPS_H
#define POPGATE_GATE_MAPS_H
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "gate.h"

struct gate_seen_rebuild;
struct gate_maps {
	char pin_dir[PATH_MAX];
	int auth_fd, trust_fd, config_fd, stats_fd, seen_fd;
	int lock_fd;            /* the pin dir, flock()ed by writers */
	uint64_t *seen;         /* gate_seen, mmap()ed */
	size_t seen_len;
	struct gate_seen_rebuild *rebuilding; /* a rebuild in steps holds the lock */
};

/* The maps' pin names, for whoever must remove a pin dir by hand. */
#define GATE_NMAPS 5
extern const char *const gate_map_names[GATE_NMAPS];

/* Pin directory from an option, else $POPGATE_PIN_DIR, else the default. */
const char *gate_pin_dir(const char *opt);
/* Mount bpffs at /sys/fs/bpf if the pin dir is under it and it is missing,
 * create the pin dir 0700 and refuse one others can write. */
int gate_pin_dir_prepare(const char *pin_dir);
/* Path of a pinned object inside the pin dir. */
int gate_pin_path(char *buf, size_t len, const char *pin_dir, const char *name);

/* max_entries 0: keep the pinned map's size, or the default for a new one. */
int gate_state_create(const char *pin_dir, uint32_t max_entries);
int gate_maps_open(struct gate_maps *m, const char *pin_dir);
void gate_maps_close(struct gate_maps *m);
/* The pins were removed (rm -r PIN_DIR): pin the maps this process holds
 * again (and lock the new pin dir from now on). Returns how many were
 * restored (0: all in place), -ESTALE when other maps now sit at the pins
 * (state created anew), or -errno (reported). */
int gate_maps_repin(struct gate_maps *m);

struct gate_bpf;
/* Make a freshly opened skeleton use this state's maps, never new ones: the
 * pinned maps (their size taken from the pins), or, when m is given, the very
 * maps m holds, whatever happens to the pins meanwhile. */
int gate_skel_use_maps(struct gate_bpf *skel, const char *pin_dir, const struct gate_maps *m);

uint64_t gate_now_ns(void);
/* CLOCK_BOOTTIME - CLOCK_MONOTONIC: the time spent suspended since boot. */
uint64_t gate_boot_offset_ns(void);

/* Authorize for window_s seconds from now; -E2BIG when the map is full
 * (nothing is evicted). An existing entry is refreshed. The key's gate_seen
 * bit is set first, under the pin-dir lock (see bpf/gate.h). */
int gate_auth_set(const struct gate_maps *m, const struct in6_addr *a,
		  uint64_t window_s, const char *user);
int gate_auth_del(const struct gate_maps *m, const struct in6_addr *a);
typedef int (*gate_auth_fn)(void *ctx, const struct in6_addr *a, const struct gate_auth *v);
/* Calls fn for each entry; stops and returns fn's value when it is non-zero. */
int gate_auth_foreach(const struct gate_maps *m, gate_auth_fn fn, void *ctx);
/* A sweep in slices, so a daemon's loop is never held for long: start with
 * a zeroed struct; each step looks at up to max_batches * 4096 entries and
 * deletes those expired at now_ns (every entry if UINT64_MAX). Returns 1
 * when the walk is over, 0 when more remains, or -errno. */
struct gate_sweep {
	uint64_t cursor;
	bool started;
	unsigned deleted, remaining;
};
int gate_auth_sweep_step(const struct gate_maps *m, uint64_t now_ns, struct gate_sweep *s,
			 unsigned max_batches);
/* The whole sweep at once. */
int gate_auth_sweep(const struct gate_maps *m, uint64_t now_ns, unsigned *deleted,
		    unsigned *remaining);
/* Recompute gate_seen from gate_auth's keys, shedding the bits of deleted
 * ones (they only cost a hash lookup per SYN meanwhile), at a size that
 * suits their number (16 bits a key, kept from 8 to 64). On a new state,
 * also choose the seed, which turns gate_seen on. */
int gate_seen_rebuild(struct gate_maps *m);
/* The same in steps, so that a daemon's loop is never held for long: begin
 * takes the pin-dir lock, which the rebuild keeps until its last step, so
 * other processes' writers wait; this process's own writes through m go on
 * meanwhile, and the keys it inserts are kept for the result. A step walks
 * up to max_batches * 4096 keys; it returns 0 while more remain, 1 when
 * the screen was written, or -errno (then the screen is as it was). abort
 * leaves it as it was too. */
int gate_seen_rebuild_begin(struct gate_maps *m);
int gate_seen_rebuild_step(struct gate_maps *m, unsigned max_batches);
void gate_seen_rebuild_abort(struct gate_maps *m);
/* 1 when a rebuild would resize gate_seen for live keys (or turn it on),
 * 0 when its size suits them, or -errno. */
int gate_seen_resize_due(const struct gate_maps *m, uint64_t live);
/* Bits set in gate_seen of those in use, for the operator (how well it
 * screens); both 0 while it is off. */
int gate_seen_count(const struct gate_maps *m, uint64_t *set, uint64_t *total);
int gate_auth_capacity(const struct gate_maps *m, uint32_t *max_entries);
int gate_auth_count(const struct gate_maps *m, unsigned *n);
int gate_trust_count(const struct gate_maps *m, unsigned *n);

int gate_trust_add(const struct gate_maps *m, const struct in6_addr *a, unsigned plen);
int gate_trust_del(const struct gate_maps *m, const struct in6_addr *a, unsigned plen);
typedef int (*gate_trust_fn)(void *ctx, const struct in6_addr *a, unsigned plen);
int gate_trust_foreach(const struct gate_maps *m, gate_trust_fn fn, void *ctx);

int gate_config_get(const struct gate_maps *m, struct gate_config *c);
/* Every config write stores gate_boot_offset_ns(); this one writes only it
 * (popgated, each sweep: after a suspend expiries stay on CLOCK_BOOTTIME). */
int gate_clock_sync(const struct gate_maps *m);
int gate_ports_set(const struct gate_maps *m, const uint16_t *ports, unsigned n);
int gate_action_set(const struct gate_maps *m, enum gate_action action);

/* Counters summed over all CPUs. */
int gate_stats_read(const struct gate_maps *m, struct gate_stats *sum);
extern const char *const gate_counter_names[GATE_COUNTER_MAX];
#endif
