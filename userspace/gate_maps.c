/*
 * gate_maps.c - see gate_maps.h. Functions that know a path report their own
 * errors; the per-entry operations return -errno for the caller, who knows
 * which address or prefix was meant.
 */
#include "gate_maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gate.skel.h"
#include "msg.h"

#define BPFFS_ROOT "/sys/fs/bpf"

static const uint16_t default_ports[] = { 25, 465, 2525 };

const char *const gate_counter_names[GATE_COUNTER_MAX] = {
#define GATE_COUNTER_NAME(name) #name,
	GATE_COUNTERS(GATE_COUNTER_NAME)
#undef GATE_COUNTER_NAME
};

static int errno_of(int ret)
{
	return ret < 0 ? -errno : 0;
}

const char *gate_pin_dir(const char *opt)
{
	const char *env = getenv("POPGATE_PIN_DIR");

	if (opt && *opt)
		return opt;
	return env && *env ? env : GATE_PIN_DIR_DEFAULT;
}

int gate_pin_path(char *buf, size_t len, const char *pin_dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", pin_dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int gate_pin_dir_prepare(const char *pin_dir)
{
	char parent[PATH_MAX];
	struct stat st;
	char *slash;

	if (pin_dir[0] != '/' || strlen(pin_dir) >= sizeof(parent)) {
		msg(LOG_ERR, "pin dir %s: must be an absolute path", pin_dir);
		return -EINVAL;
	}
	strcpy(parent, pin_dir);
	slash = strrchr(parent, '/');
	*(slash == parent ? slash + 1 : slash) = '\0';
	if (!is_bpffs(parent)) {
		/* systemd mounts it on a normal host; without systemd nobody does. */
		if (strcmp(parent, BPFFS_ROOT) != 0) {
			msg(LOG_ERR, "pin dir %s: %s is not on a BPF filesystem (bpffs)", pin_dir, parent);
			return -ENOTDIR;
		}
		if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") < 0) {
			int err = -errno;

			msg(LOG_ERR, "mounting bpffs at %s: %s", BPFFS_ROOT, strerror(errno));
			return err;
		}
		msg(LOG_NOTICE, "mounted bpffs at %s (it was not mounted)", BPFFS_ROOT);
	}
	if (mkdir(pin_dir, 0700) < 0 && errno != EEXIST) {
		int err = -errno;

		msg(LOG_ERR, "creating pin dir %s: %s", pin_dir, strerror(errno));
		return err;
	}
	if (stat(pin_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		msg(LOG_ERR, "pin dir %s: not a directory", pin_dir);
		return -ENOTDIR;
	}
	/* The maps decide who may relay: nobody but root may reach them. */
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		msg(LOG_ERR, "pin dir %s: owned by uid %u, not by us", pin_dir, st.st_uid);
		return -EPERM;
	}
	if ((st.st_mode & 077) && chmod(pin_dir, 0700) < 0) {
		int err = -errno;

		msg(LOG_ERR, "pin dir %s: chmod 0700: %s", pin_dir, strerror(errno));
		return err;
	}
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t gate_now_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t gate_boot_offset_ns(void)
{
	uint64_t mono = clock_ns(CLOCK_MONOTONIC), boot = clock_ns(CLOCK_BOOTTIME);

	return boot > mono ? boot - mono : 0;
}

/* The pinned map NAME with its info: an fd to close, or -errno. */
static int pinned_open(const char *pin_dir, const char *name, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	char path[PATH_MAX];
	int fd, err;

	err = gate_pin_path(path, sizeof(path), pin_dir, name);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int pinned_max_entries(const char *pin_dir, const char *name, uint32_t *max)
{
	struct bpf_map_info info;
	int fd = pinned_open(pin_dir, name, &info);

	if (fd < 0)
		return fd;
	close(fd);
	*max = info.max_entries;
	return 0;
}

/* gate_seen's words for a gate_auth of max_entries (see bpf/gate.h). */
static uint32_t seen_words(uint32_t max_entries)
{
	uint64_t bits = 64;

	while (bits < (uint64_t)max_entries * GATE_SEEN_BITS_PER_ENTRY && bits < (1ull << 32))
		bits <<= 1;
	return (uint32_t)(bits / 64);
}

/* Size the sized maps before load: gate_auth as asked (0: as compiled),
 * gate_seen as pinned, or else to go with gate_auth. */
static int set_sizes(struct gate_bpf *skel, const char *pin_dir, uint32_t max_entries)
{
	uint32_t words;
	int err = 0;

	if (max_entries)
		err = bpf_map__set_max_entries(skel->maps.gate_auth, max_entries);
	if (pinned_max_entries(pin_dir, GATE_MAP_SEEN, &words))
		words = seen_words(max_entries ? max_entries : GATE_AUTH_MAX_DEFAULT);
	return err ? err : bpf_map__set_max_entries(skel->maps.gate_seen, words);
}

const char *const gate_map_names[GATE_NMAPS] = {
	GATE_MAP_AUTH, GATE_MAP_TRUST, GATE_MAP_CONFIG, GATE_MAP_STATS, GATE_MAP_SEEN,
};

/* The fds of struct gate_maps in gate_map_names' order (writable: open and
 * close fill them in). */
static int *map_fd(const struct gate_maps *m, size_t i)
{
	struct gate_maps *w = (struct gate_maps *)m;
	int *fds[GATE_NMAPS] = { &w->auth_fd, &w->trust_fd, &w->config_fd, &w->stats_fd, &w->seen_fd };

	return fds[i];
}

int gate_skel_use_maps(struct gate_bpf *skel, const char *pin_dir, const struct gate_maps *m)
{
	/* In gate_map_names' order. */
	struct bpf_map *maps[GATE_NMAPS] = { skel->maps.gate_auth, skel->maps.gate_trust,
					skel->maps.gate_config, skel->maps.gate_stats,
					skel->maps.gate_seen };
	uint32_t pinned;

	if (!m) {
		/* A pinned map is reused only if it matches in every parameter. */
		if (pinned_max_entries(pin_dir, GATE_MAP_AUTH, &pinned) == 0)
			return set_sizes(skel, pin_dir, pinned);
		return 0;
	}
	for (size_t i = 0; i < GATE_NMAPS; i++) {
		int err = bpf_map__set_pin_path(maps[i], NULL);

		if (!err)
			err = bpf_map__reuse_fd(maps[i], *map_fd(m, i));
		if (err)
			return err;
	}
	return 0;
}


static int config_init(struct gate_maps *m)
{
	struct gate_config c;
	int err = gate_config_get(m, &c);

	if (!err && c.magic != GATE_CONFIG_MAGIC)
		err = gate_ports_set(m, default_ports,
				     sizeof(default_ports) / sizeof(default_ports[0]));
	return err || c.seen_seed ? err : gate_seen_rebuild(m);
}

/*
 * gate_config grows at its end between versions; its pin cannot be reused
 * by a new layout. Take the old value out and unpin the map (the attached
 * program keeps it until it is replaced), so that the load makes the new
 * one and config_carry() puts the old fields back: the authorizations, in
 * their own maps, are never touched. *old_len 0: nothing to carry.
 */
static int config_take_old(const char *pin_dir, struct gate_config *old, __u32 *old_len)
{
	struct bpf_map_info info;
	__u32 zero = 0;
	char path[PATH_MAX];
	unsigned char buf[sizeof(*old)];
	int fd, err = 0;

	*old_len = 0;
	gate_pin_path(path, sizeof(path), pin_dir, GATE_MAP_CONFIG); /* checked by pinned_open */
	fd = pinned_open(pin_dir, GATE_MAP_CONFIG, &info);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0) {
		msg(LOG_ERR, "%s: %s", path, strerror(-fd));
		return fd;
	}
	if (info.value_size != sizeof(*old)) {
		/* Only an older, shorter layout is known. */
		if (info.value_size > sizeof(*old) || info.max_entries != 1)
			err = -EEXIST;
		else if (bpf_map_lookup_elem(fd, &zero, buf) || unlink(path))
			err = -errno;
		if (!err) {
			memset(old, 0, sizeof(*old));
			memcpy(old, buf, info.value_size);
			*old_len = info.value_size;
			msg(LOG_NOTICE, "%s: a configuration of an older popgate (%u bytes): carried "
			    "over into the current layout", path, info.value_size);
		}
	}
	close(fd);
	if (err)
		msg(LOG_ERR, "%s: taking over an older configuration: %s", path, strerror(-err));
	return err;
}

static int config_carry(const struct gate_maps *m, const struct gate_config *old)
{
	__u32 zero = 0;

	return errno_of(bpf_map_update_elem(m->config_fd, &zero, old, BPF_ANY));
}

int gate_state_create(const char *pin_dir, uint32_t max_entries)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct gate_config old;
	struct gate_bpf *skel;
	struct gate_maps m;
	uint32_t pinned = 0;
	__u32 old_len;
	int err;

	err = gate_pin_dir_prepare(pin_dir);
	if (!err)
		err = config_take_old(pin_dir, &old, &old_len);
	if (err)
		return err;
	if (pinned_max_entries(pin_dir, GATE_MAP_AUTH, &pinned) == 0) {
		if (max_entries && max_entries != pinned) {
			msg(LOG_ERR, "%s/%s holds %u entries at most, %u were asked for: "
			    "a pinned map cannot be resized (flush, detach and remove %s to start anew)",
			    pin_dir, GATE_MAP_AUTH, pinned, max_entries, pin_dir);
			return -EEXIST;
		}
		max_entries = pinned;
	}
	skel = gate_bpf__open_opts(&opts);
	if (!skel) {
		err = -errno;
		msg(LOG_ERR, "opening the BPF object: %s", strerror(-err));
		return err;
	}
	err = set_sizes(skel, pin_dir, max_entries);
	if (err) {
		gate_bpf__destroy(skel);
		msg(LOG_ERR, "sizing the maps: %s", strerror(-err));
		return err;
	}
	/* Only the maps are wanted here: skip verifying the programs. */
	bpf_program__set_autoload(skel->progs.popgate_xdp, false);
	bpf_program__set_autoload(skel->progs.popgate_tc, false);
	err = gate_bpf__load(skel);
	gate_bpf__destroy(skel);
	if (err) {
		msg(LOG_ERR, "loading the BPF object with maps pinned in %s: %s "
		    "(libbpf's messages above say more)", pin_dir, strerror(-err));
		return err;
	}
	err = gate_maps_open(&m, pin_dir);
	if (err)
		return err;
	err = old_len ? config_carry(&m, &old) : 0;
	if (!err)
		err = config_init(&m);
	if (err)
		msg(LOG_ERR, "%s/%s: writing the default configuration: %s",
		    pin_dir, GATE_MAP_CONFIG, strerror(-err));
	gate_maps_close(&m);
	return err;
}

static int lock_open(struct gate_maps *m)
{
	int fd = open(m->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		int err = -errno;

		msg(LOG_ERR, "%s: %s", m->pin_dir, strerror(-err));
		return err;
	}
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	m->lock_fd = fd;
	return 0;
}

static int seen_map(struct gate_maps *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	void *p;

	if (bpf_obj_get_info_by_fd(m->seen_fd, &info, &len))
		return -errno;
	m->seen_len = (size_t)info.max_entries * sizeof(*m->seen);
	/* Populated: a page fault on the first bit set in a page would cost a
	 * login more than the rest of its path. */
	p = mmap(NULL, m->seen_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, m->seen_fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		msg(LOG_ERR, "%s/%s: mmap: %s", m->pin_dir, GATE_MAP_SEEN, strerror(-err));
		return err;
	}
	/* popgated's log reader is forked and must hold no BPF object: not
	 * even a window on this one. */
	if (madvise(p, m->seen_len, MADV_DONTFORK) < 0) {
		int err = -errno;

		munmap(p, m->seen_len);
		msg(LOG_ERR, "%s/%s: madvise: %s", m->pin_dir, GATE_MAP_SEEN, strerror(-err));
		return err;
	}
	m->seen = p;
	return 0;
}

int gate_maps_open(struct gate_maps *m, const char *pin_dir)
{
	char path[PATH_MAX];
	int err;

	m->lock_fd = -1;
	m->seen = NULL;
	m->rebuilding = NULL;
	if (snprintf(m->pin_dir, sizeof(m->pin_dir), "%s", pin_dir) >= (int)sizeof(m->pin_dir))
		return -ENAMETOOLONG;
	for (size_t i = 0; i < GATE_NMAPS; i++)
		*map_fd(m, i) = -1;
	for (size_t i = 0; i < GATE_NMAPS; i++) {
		int err = gate_pin_path(path, sizeof(path), pin_dir, gate_map_names[i]);

		if (!err) {
			*map_fd(m, i) = bpf_obj_get(path);
			err = *map_fd(m, i) < 0 ? -errno : 0;
		}
		if (err) {
			if (err == -ENOENT && i > 0)
				msg(LOG_ERR, "%s: no such pinned map: the state in %s was made by an "
				    "older popgate, or lost a pin ('popgatectl attach IFACE' or "
				    "starting popgated completes it, authorizations kept)", path, pin_dir);
			else if (err == -ENOENT)
				msg(LOG_ERR, "%s: no such pinned map: popgate is not set up in %s "
				    "(run 'popgatectl attach IFACE' or start popgated)", path, pin_dir);
			else
				msg(LOG_ERR, "%s: %s", path, strerror(-err));
			gate_maps_close(m);
			return err;
		}
	}
	err = lock_open(m);
	if (!err)
		err = seen_map(m);
	if (err)
		gate_maps_close(m);
	return err;
}

void gate_maps_close(struct gate_maps *m)
{
	gate_seen_rebuild_abort(m);
	for (size_t i = 0; i < GATE_NMAPS; i++) {
		if (*map_fd(m, i) >= 0)
			close(*map_fd(m, i));
		*map_fd(m, i) = -1;
	}
	if (m->seen)
		munmap(m->seen, m->seen_len);
	m->seen = NULL;
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	m->lock_fd = -1;
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

int gate_maps_repin(struct gate_maps *m)
{
	char path[PATH_MAX + 32]; /* pin_dir is at most PATH_MAX, then a name */
	int restored = 0, err;

	err = gate_pin_dir_prepare(m->pin_dir);
	if (err)
		return err;
	for (size_t i = 0; i < GATE_NMAPS; i++) {
		int fd, ours = *map_fd(m, i);

		gate_pin_path(path, sizeof(path), m->pin_dir, gate_map_names[i]);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bool same = map_id(fd) == map_id(ours);

			close(fd);
			if (!same)
				return -ESTALE;
			continue;
		}
		if (errno != ENOENT || bpf_obj_pin(ours, path) < 0) {
			err = -errno;
			msg(LOG_ERR, "%s: pinning again: %s", path, strerror(-err));
			return err;
		}
		restored++;
	}
	/* Others lock the new directory: so must we. A rebuild in steps held
	 * the old one's lock, so others may have written meanwhile: it ends. */
	if (restored)
		gate_seen_rebuild_abort(m);
	if (restored && (err = lock_open(m)))
		return err;
	return restored;
}

/*
 * Writers of gate_auth's keys, gate_seen and gate_config serialise on a lock
 * of the pin dir: a gate_seen rebuild must not run between another writer
 * setting a bit and inserting its key, or the key would be hidden. The
 * directory stays open from gate_maps_open() (a path walk per login costs
 * more than the rest of it) and follows the pins in gate_maps_repin(). A
 * rebuild in steps holds the lock from its first step to its last; this
 * process's writers meanwhile run under it.
 */
static int pin_lock(const struct gate_maps *m)
{
	if (m->rebuilding)
		return 0;
	return flock(m->lock_fd, LOCK_EX) < 0 ? -errno : 0;
}

static void pin_unlock(const struct gate_maps *m)
{
	if (!m->rebuilding)
		flock(m->lock_fd, LOCK_UN);
}

static void rebuild_note(struct gate_seen_rebuild *rb, const struct gate_addr *k);

static void to_key(struct gate_addr *k, const struct in6_addr *a)
{
	memcpy(k->addr, a->s6_addr, sizeof(k->addr));
}

static int seen_set(const struct gate_maps *m, const struct gate_addr *k)
{
	struct gate_config c;
	__u32 h;
	int err = gate_config_get(m, &c);

	if (err || !gate_seen_on(&c))
		return err;
	h = gate_seen_hash(k, c.seen_seed, c.seen_bits_log2);
	if (h / 64 >= m->seen_len / sizeof(*m->seen))
		return -EINVAL; /* config and map disagree: no bit, no key */
	/* The program reads the word concurrently; the key's insertion (a
	 * syscall, so a full barrier) comes after. */
	__atomic_fetch_or(&m->seen[h / 64], 1ull << (h % 64), __ATOMIC_RELAXED);
	return 0;
}

int gate_auth_set(const struct gate_maps *m, const struct in6_addr *a,
		  uint64_t window_s, const char *user)
{
	struct gate_auth v = {};
	struct gate_addr k;
	uint64_t now = gate_now_ns();
	int err;

	to_key(&k, a);
	v.authorized_ns = now;
	v.expires_ns = now + window_s * 1000000000ull;
	if (user)
		strncpy(v.user, user, sizeof(v.user) - 1);
	err = pin_lock(m);
	if (err)
		return err;
	/* The bit first: the program must never see the key without it. */
	err = seen_set(m, &k);
	/* A plain (not LRU) hash answers E2BIG when full instead of evicting. */
	if (!err)
		err = errno_of(bpf_map_update_elem(m->auth_fd, &k, &v, BPF_ANY));
	/* A rebuild under way may have walked past the key's bucket already. */
	if (!err && m->rebuilding)
		rebuild_note(m->rebuilding, &k);
	pin_unlock(m);
	return err;
}

int gate_auth_del(const struct gate_maps *m, const struct in6_addr *a)
{
	struct gate_addr k;

	to_key(&k, a);
	return errno_of(bpf_map_delete_elem(m->auth_fd, &k));
}

int gate_auth_foreach(const struct gate_maps *m, gate_auth_fn fn, void *ctx)
{
	struct gate_addr key, next;
	struct gate_auth v;
	struct in6_addr a;
	void *prev = NULL;

	while (bpf_map_get_next_key(m->auth_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		/* Deleted between the two calls (a sweep, a revoke): skip it. */
		if (bpf_map_lookup_elem(m->auth_fd, &key, &v) < 0)
			continue;
		memcpy(a.s6_addr, key.addr, sizeof(key.addr));
		int ret = fn(ctx, &a, &v);

		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

#define SWEEP_BATCH 4096

struct sweep_buf {
	struct gate_addr keys[SWEEP_BATCH], dead[SWEEP_BATCH];
	struct gate_auth vals[SWEEP_BATCH];
};

/* Delete keys, in one call when none vanished meanwhile (a revoke). */
static unsigned delete_keys(int fd, struct gate_addr *keys, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = n, deleted;

	if (bpf_map_delete_batch(fd, keys, &done, &opts) == 0)
		return n;
	deleted = done;
	for (__u32 i = done; i < n; i++)
		deleted += bpf_map_delete_elem(fd, &keys[i]) == 0;
	return deleted;
}

/* The next batch of gate_auth from where s stands into buf: its size in
 * *count; 1 when it was the last, 0 when more remain, or -errno. */
static int auth_batch(const struct gate_maps *m, struct gate_sweep *s, struct sweep_buf *buf,
		      __u32 *count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 next = 0;
	int err;

	*count = SWEEP_BATCH;
	err = bpf_map_lookup_batch(m->auth_fd, s->started ? &s->cursor : NULL, &next, buf->keys,
				   buf->vals, count, &opts);
	if (err && errno != ENOENT)
		return -errno;
	s->cursor = next;
	s->started = true;
	return err ? 1 : 0; /* ENOENT: the walk is over */
}

/*
 * Batch lookups walk the table by bucket, so deleting what a batch found
 * does not disturb the walk (get_next_key would restart it at the first
 * key: quadratic with many expired entries).
 */
int gate_auth_sweep_step(const struct gate_maps *m, uint64_t now_ns, struct gate_sweep *s,
			 unsigned max_batches)
{
	struct sweep_buf *buf = malloc(sizeof(*buf));
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (unsigned b = 0; b < max_batches && !ret; b++) {
		__u32 count, ndead = 0;

		ret = auth_batch(m, s, buf, &count);
		if (ret < 0)
			break;
		for (__u32 i = 0; i < count; i++) {
			if (buf->vals[i].expires_ns > now_ns)
				s->remaining++;
			else
				buf->dead[ndead++] = buf->keys[i];
		}
		s->deleted += ndead ? delete_keys(m->auth_fd, buf->dead, ndead) : 0;
	}
	free(buf);
	return ret;
}

int gate_auth_sweep(const struct gate_maps *m, uint64_t now_ns, unsigned *deleted,
		    unsigned *remaining)
{
	struct gate_sweep s = {};
	int r;

	while ((r = gate_auth_sweep_step(m, now_ns, &s, 16)) == 0)
		;
	if (deleted)
		*deleted = s.deleted;
	if (remaining)
		*remaining = s.remaining;
	return r < 0 ? r : 0;
}

int gate_auth_capacity(const struct gate_maps *m, uint32_t *max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err = bpf_obj_get_info_by_fd(m->auth_fd, &info, &len);

	if (!err)
		*max_entries = info.max_entries;
	return err;
}

/* Writes c as the config, stamped: the program takes the clock offset from it. */
static int config_write(const struct gate_maps *m, struct gate_config *c)
{
	__u32 zero = 0;

	c->magic = GATE_CONFIG_MAGIC;
	c->boot_offset_ns = gate_boot_offset_ns();
	return errno_of(bpf_map_update_elem(m->config_fd, &zero, c, BPF_ANY));
}

/*
 * Read-modify-write of the config value, under a lock on the pin dir so
 * popgated and popgatectl changing different fields do not undo each other.
 */
static int config_update(const struct gate_maps *m, int (*edit)(struct gate_config *, const void *),
			 const void *arg)
{
	struct gate_config c;
	int err;

	err = pin_lock(m);
	if (err)
		return err;
	err = gate_config_get(m, &c);
	if (!err)
		err = edit(&c, arg);
	if (!err)
		err = config_write(m, &c);
	pin_unlock(m);
	return err;
}

static int edit_nothing(struct gate_config *c, const void *arg)
{
	(void)c;
	(void)arg;
	return 0;
}

int gate_clock_sync(const struct gate_maps *m)
{
	return config_update(m, edit_nothing, NULL);
}

/* gate_seen's capacity as created: a power of two of words. */
static int seen_size(const struct gate_maps *m, __u32 *words, __u32 *bits_log2)
{
	size_t n = m->seen_len / sizeof(*m->seen);

	if (!n || (n & (n - 1)) || n > (1u << 26))
		return -EINVAL;
	*words = (__u32)n;
	*bits_log2 = 6 + (__u32)__builtin_ctz((unsigned)n);
	return 0;
}

/*
 * The size in use follows the table, not its capacity: under a flood of
 * unknown sources every packet reads a random bit, and 10,000 keys in 32 KiB
 * stay in the CPU's caches where the capacity's 1 MiB (a million keys) does
 * not. A rebuild sizes it at 16 bits a key, so the table can double before
 * more than 12% of unknown sources get through to the lookup, and keeps a
 * size while it stays between 8 and 64 bits a key.
 */
#define SEEN_MIN_LOG2 16        /* 8 KiB */
#define SEEN_FIT_BITS_PER_KEY (2 * GATE_SEEN_BITS_PER_ENTRY)

static __u32 seen_fit(uint64_t live, __u32 cap_log2)
{
	__u32 k = SEEN_MIN_LOG2;

	while (k < cap_log2 && (1ull << k) < live * SEEN_FIT_BITS_PER_KEY)
		k++;
	return k < cap_log2 ? k : cap_log2;
}

static bool seen_keeps(uint64_t live, __u32 k, __u32 cap_log2)
{
	uint64_t bits = 1ull << k;

	if (k > cap_log2)
		return false;
	if (bits < live * GATE_SEEN_BITS_PER_ENTRY)
		return k == cap_log2; /* too full: grow, up to the capacity */
	return bits <= live * 8 * GATE_SEEN_BITS_PER_ENTRY || k <= SEEN_MIN_LOG2;
}

/*
 * A key's bit at 2^k bits is its bit at 2^cap shifted right by cap - k (the
 * hash's top bits, gate_seen_hash()), so one walk at the capacity gives the
 * words of any smaller size.
 */
static void seen_fold(const __u64 *from, __u32 cap_log2, __u64 *to, __u32 k)
{
	__u32 n = 1u << (cap_log2 - 6), shift = cap_log2 - k;

	memset(to, 0, sizeof(*to) << (k - 6));
	for (__u32 i = 0; i < n; i++)
		for (__u64 w = from[i]; w; w &= w - 1) {
			__u64 bit = ((__u64)i * 64 + (__u64)__builtin_ctzll(w)) >> shift;

			to[bit / 64] |= 1ull << (bit % 64);
		}
}

/* Stores words [from, to) of gate_seen (words NULL: zeroes). The program may
 * read them meanwhile: a bit set before and after is set throughout. */
static void seen_store(const struct gate_maps *m, const __u64 *words, __u32 from, __u32 to)
{
	for (__u32 i = from; i < to; i++)
		__atomic_store_n(&m->seen[i], words ? words[i] : 0, __ATOMIC_RELAXED);
}

/*
 * Waits until every program run that began before has ended: they run under
 * RCU, and MEMBARRIER_CMD_GLOBAL is synchronize_rcu() (membarrier(2)).
 */
static int programs_quiesce(void)
{
	return syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0 ? -errno : 0;
}

/* A rebuild under way (gate_seen_rebuild_begin()). */
struct gate_seen_rebuild {
	struct gate_sweep walk;
	struct sweep_buf *buf;
	__u64 seed;
	__u32 n_cap, cap_log2;
	__u64 *at_cap;          /* the keys walked so far, at the capacity's size */
	uint64_t live;
	struct gate_addr *added; /* keys this process inserted meanwhile */
	size_t nadded, added_max;
	bool lost;              /* one of them could not be kept: write nothing */
};

static void rebuild_note(struct gate_seen_rebuild *rb, const struct gate_addr *k)
{
	if (rb->nadded == rb->added_max) {
		size_t n = rb->added_max ? 2 * rb->added_max : 256;
		struct gate_addr *p = realloc(rb->added, n * sizeof(*p));

		if (!p) {
			rb->lost = true;
			return;
		}
		rb->added = p;
		rb->added_max = n;
	}
	rb->added[rb->nadded++] = *k;
}

/* A key's bit in the words at the capacity's size. */
static void rebuild_add(struct gate_seen_rebuild *rb, const struct gate_addr *k)
{
	__u32 h = gate_seen_hash(k, rb->seed, rb->cap_log2);

	rb->at_cap[h / 64] |= 1ull << (h % 64);
}

static void rebuild_free(struct gate_seen_rebuild *rb)
{
	free(rb->buf);
	free(rb->at_cap);
	free(rb->added);
	free(rb);
}

/*
 * The walk is over: the screen for its keys and those inserted meanwhile.
 * A program that read the config just before it changes still hashes with
 * the old size: a new size is therefore first merged into the words (a
 * key's bit is then set at both sizes), then published, and the words are
 * made exact only once every program that may have read the old size has
 * finished. Without that wait (membarrier refused) the old size's bits stay
 * until the next rebuild: they only let some unknown sources through to the
 * lookup.
 */
static int rebuild_finish(const struct gate_maps *m, struct gate_seen_rebuild *rb,
			  struct gate_config *c)
{
	__u32 k, cur = gate_seen_on(c) ? c->seen_bits_log2 : 0;
	__u64 *words;
	int err = 0;

	if (rb->lost)
		return -ENOMEM;
	for (size_t i = 0; i < rb->nadded; i++)
		rebuild_add(rb, &rb->added[i]);
	words = calloc(rb->n_cap, sizeof(*words));
	if (!words)
		return -ENOMEM;
	k = cur && seen_keeps(rb->live, cur, rb->cap_log2) ? cur : seen_fit(rb->live, rb->cap_log2);
	seen_fold(rb->at_cap, rb->cap_log2, words, k);
	if (k == cur) {
		seen_store(m, words, 0, 1u << (k - 6));
		goto out;
	}
	for (__u32 i = 0; i < 1u << (k - 6); i++)
		__atomic_fetch_or(&m->seen[i], words[i], __ATOMIC_RELAXED);
	c->seen_seed = rb->seed;
	c->seen_bits_log2 = k;
	err = config_write(m, c);
	if (!err && programs_quiesce() == 0) {
		seen_store(m, words, 0, 1u << (k - 6));
		seen_store(m, NULL, 1u << (k - 6), rb->n_cap);
	}
out:
	free(words);
	return err;
}

int gate_seen_rebuild_begin(struct gate_maps *m)
{
	struct gate_seen_rebuild *rb;
	struct gate_config c;
	int err;

	if (m->rebuilding)
		return -EBUSY;
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return -ENOMEM;
	err = seen_size(m, &rb->n_cap, &rb->cap_log2);
	if (!err) {
		rb->buf = malloc(sizeof(*rb->buf));
		rb->at_cap = calloc(rb->n_cap, sizeof(*rb->at_cap));
		err = rb->buf && rb->at_cap ? pin_lock(m) : -ENOMEM;
	}
	if (!err) {
		err = gate_config_get(m, &c);
		rb->seed = c.seen_seed;
		/* A new state: the bits come first, the seed that turns them on last. */
		if (!err && !rb->seed && getrandom(&rb->seed, sizeof(rb->seed), 0) != sizeof(rb->seed))
			err = -errno;
		rb->seed |= 1; /* never 0, which means off */
		if (err)
			pin_unlock(m);
	}
	if (err) {
		rebuild_free(rb);
		return err;
	}
	m->rebuilding = rb;
	return 0;
}

static void rebuild_end(struct gate_maps *m)
{
	struct gate_seen_rebuild *rb = m->rebuilding;

	m->rebuilding = NULL;
	pin_unlock(m);
	rebuild_free(rb);
}

int gate_seen_rebuild_step(struct gate_maps *m, unsigned max_batches)
{
	struct gate_seen_rebuild *rb = m->rebuilding;
	struct gate_config c;
	int r = 0;

	if (!rb)
		return -EINVAL;
	for (unsigned b = 0; b < max_batches && r == 0; b++) {
		__u32 count;

		r = auth_batch(m, &rb->walk, rb->buf, &count);
		for (__u32 i = 0; r >= 0 && i < count; i++)
			rebuild_add(rb, &rb->buf->keys[i]);
		rb->live += r >= 0 ? count : 0;
	}
	if (r == 0)
		return 0;
	if (r > 0 && !(r = gate_config_get(m, &c)))
		r = rebuild_finish(m, rb, &c);
	rebuild_end(m);
	return r < 0 ? r : 1;
}

void gate_seen_rebuild_abort(struct gate_maps *m)
{
	if (m->rebuilding)
		rebuild_end(m);
}

int gate_seen_rebuild(struct gate_maps *m)
{
	int r = gate_seen_rebuild_begin(m);

	while (r == 0)
		r = gate_seen_rebuild_step(m, UINT_MAX);
	return r < 0 ? r : 0;
}

int gate_seen_resize_due(const struct gate_maps *m, uint64_t live)
{
	struct gate_config c;
	__u32 n_cap, cap_log2;
	int err = seen_size(m, &n_cap, &cap_log2);

	if (!err)
		err = gate_config_get(m, &c);
	if (err)
		return err;
	return !gate_seen_on(&c) || !seen_keeps(live, c.seen_bits_log2, cap_log2);
}

int gate_seen_count(const struct gate_maps *m, uint64_t *set, uint64_t *total)
{
	struct gate_config c;
	__u32 n_cap, cap_log2;
	int err = seen_size(m, &n_cap, &cap_log2);

	*set = *total = 0;
	if (!err)
		err = gate_config_get(m, &c);
	if (err || !gate_seen_on(&c) || c.seen_bits_log2 > cap_log2)
		return err;
	for (__u32 i = 0; i < 1u << (c.seen_bits_log2 - 6); i++)
		*set += (uint64_t)__builtin_popcountll(__atomic_load_n(&m->seen[i], __ATOMIC_RELAXED));
	*total = 1ull << c.seen_bits_log2;
	return 0;
}

/* Keys of a map, walked with get_next_key alone (no value copied). */
static int count_keys(int fd, size_t key_size, unsigned *n)
{
	unsigned char key[sizeof(struct gate_prefix)], next[sizeof(key)];
	void *prev = NULL;

	*n = 0;
	if (key_size > sizeof(key))
		return -EINVAL;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		(*n)++;
	}
	return errno == ENOENT ? 0 : -errno;
}

int gate_auth_count(const struct gate_maps *m, unsigned *n)
{
	return count_keys(m->auth_fd, sizeof(struct gate_addr), n);
}

int gate_trust_count(const struct gate_maps *m, unsigned *n)
{
	return count_keys(m->trust_fd, sizeof(struct gate_prefix), n);
}

/* The program skips the trie while it is empty; one key says it is not. */
static int edit_has_trust(struct gate_config *c, const void *arg)
{
	const struct gate_maps *m = arg;
	struct gate_prefix first;

	if (bpf_map_get_next_key(m->trust_fd, NULL, &first) == 0)
		c->has_trust = 1;
	else if (errno == ENOENT)
		c->has_trust = 0;
	else
		return -errno;
	return 0;
}

static void to_prefix(struct gate_prefix *k, const struct in6_addr *a, unsigned plen)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = plen;
	memcpy(k->addr, a->s6_addr, sizeof(k->addr));
}

int gate_trust_add(const struct gate_maps *m, const struct in6_addr *a, unsigned plen)
{
	struct gate_prefix k;
	__u8 one = 1;
	int err;

	to_prefix(&k, a, plen);
	err = errno_of(bpf_map_update_elem(m->trust_fd, &k, &one, BPF_ANY));
	return err ? err : config_update(m, edit_has_trust, m);
}

int gate_trust_del(const struct gate_maps *m, const struct in6_addr *a, unsigned plen)
{
	struct gate_prefix k;
	int err;

	to_prefix(&k, a, plen);
	err = errno_of(bpf_map_delete_elem(m->trust_fd, &k));
	return err ? err : config_update(m, edit_has_trust, m);
}

int gate_trust_foreach(const struct gate_maps *m, gate_trust_fn fn, void *ctx)
{
	struct gate_prefix key, next;
	struct in6_addr a;
	void *prev = NULL;

	while (bpf_map_get_next_key(m->trust_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		memcpy(a.s6_addr, key.addr, sizeof(key.addr));
		int ret = fn(ctx, &a, key.prefixlen);

		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

int gate_config_get(const struct gate_maps *m, struct gate_config *c)
{
	__u32 zero = 0;

	return errno_of(bpf_map_lookup_elem(m->config_fd, &zero, c));
}

struct ports_arg {
	const uint16_t *ports;
	unsigned n;
};

static int edit_ports(struct gate_config *c, const void *arg)
{
	const struct ports_arg *p = arg;

	if (p->n == 0 || p->n > GATE_MAX_PORTS)
		return -EINVAL;
	memset(c->ports, 0, sizeof(c->ports));
	memcpy(c->ports, p->ports, p->n * sizeof(p->ports[0]));
	c->nports = p->n;
	return 0;
}

int gate_ports_set(const struct gate_maps *m, const uint16_t *ports, unsigned n)
{
	struct ports_arg p = { ports, n };

	return config_update(m, edit_ports, &p);
}

static int edit_action(struct gate_config *c, const void *arg)
{
	c->action = *(const enum gate_action *)arg;
	return 0;
}

int gate_action_set(const struct gate_maps *m, enum gate_action action)
{
	return config_update(m, edit_action, &action);
}

int gate_stats_read(const struct gate_maps *m, struct gate_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct gate_stats *per;
	__u32 zero = 0;
	int err;

	if (ncpu < 0)
		return ncpu;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	err = errno_of(bpf_map_lookup_elem(m->stats_fd, &zero, per));
	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; !err && cpu < ncpu; cpu++) {
		__u64 *dst = (__u64 *)sum, *src = (__u64 *)&per[cpu];

		for (int i = 0; i < GATE_COUNTER_MAX; i++)
			dst[i] += src[i];
	}
	free(per);
	return err;
}
