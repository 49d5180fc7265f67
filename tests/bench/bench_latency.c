/*
 * bench_latency.c - login-to-gate latency, and the daemon's fill rate.
 *
 *   bench_latency MODE -P PIN_DIR -L LINES -E EXPECT [options]
 *
 * LINES holds login lines (gen_maillog, one distinct address each) in RFC
 * 3164 form, EXPECT their addresses. For each measured login the clock is
 * read and the line is written (one write(2) or one journal send); the
 * login is seen when the process under test returns from the bpf(2) map
 * update that put its address in, stamped by the kernel
 * (latency_probe.bpf.c): the time between is the login's latency. Writes
 * follow an open loop (a random gap after the previous write, -g), as
 * logins arrive independently of the daemon; in between this program
 * sleeps and reads the probe's ring every millisecond, holding no CPU.
 * The share of CPU time the whole machine was busy during the measurement
 * is reported too (cpu_busy_pct, ours included).
 *
 * Modes (what writes, and who reads):
 *  file            append to -l LOG; a popgated already running follows it
 *                  (started by daemon_bench.sh with `log = LOG`).
 *  journald        sd_journal_sendv() to the journald of this mount
 *                  namespace, SYSLOG_IDENTIFIER from the line; popgated
 *                  (`journal = all`) reads the system journal.
 *  journal-remote  entries in journal export format piped into
 *                  systemd-journal-remote, which writes -J FILE (named
 *                  system.journal in the system journal's directory, so a
 *                  popgated with `journal = all` reads it). journal-remote
 *                  announces each entry at once; journald waits 250 to
 *                  500 ms (its post-change timer).
 *  poll            append to -l LOG, read by a child of this program that
 *                  wakes every second, reads what was added and writes the
 *                  map: the classic polling tail, with popgated's own line
 *                  splitting and parser, so only the wake-up differs. It
 *                  creates PIN_DIR itself; the caller removes it.
 *  floor           append to -l LOG, read by a child of this program in
 *                  one process with no event loop: a blocking read of its
 *                  inotify fd, pread to the end, popgated's line splitter
 *                  and parser, one bpf_map_update_elem() (no lock, no
 *                  screen bit). The least any inotify reader can do: what
 *                  is left of a latency here is the machine's wake-up and
 *                  system calls, popgated's row minus it is popgated's own
 *                  design (privilege separation, screen). Creates PIN_DIR
 *                  itself, as poll does.
 *  fill            append all of LINES to -l LOG at once (a running popgated
 *                  follows it, -p its pid) and wait for the last address:
 *                  the daemon's sustained rate, its RSS before and after (the
 *                  privileged half and its log reader, a child), the map's
 *                  kernel memory and entry count.
 * The first logins (-w) wait for the reader to be ready; they are not
 * measured. With -p DAEMON_PID (or the polling tail, our child), the CPU
 * time the reader spent per login is reported too (popgated: both its
 * processes). Results are "metric NAME VALUE" lines, NAME under -m PREFIX.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "daemon_util.h"
#include "gate_maps.h"
#include "latency_probe.h"
#include "latency_probe.skel.h"
#include "line_buf.h"
#include "login_parse.h"

#define JOURNAL_REMOTE "/lib/systemd/systemd-journal-remote"
#define MAX_PENDING 4096
#define POLL_PERIOD_NS 1000000000ull /* the classic tools' 1-second tail */
#define FILL_CHUNK (1u << 20)
#define HELPER_STOP_MS 5000
#define PIN_WAIT_MS 10000
#define READY_NS 3000000000ull
#define WATCH_TICK_NS 1000000ull
#define TAIL_WINDOW_S 5400 /* what the polling tail and the floor authorize for */

enum mode { M_FILE, M_JOURNALD, M_JOURNAL_REMOTE, M_POLL, M_FLOOR, M_FILL };

struct opts {
	enum mode mode;
	const char *pin_dir, *lines, *expect, *log, *journal_out, *prefix;
	size_t n, warm;
	uint64_t gap_min_ns, gap_max_ns, timeout_ns;
	pid_t daemon;
};

struct writer {
	enum mode mode;
	int fd;        /* the log (O_APPEND), or journal-remote's stdin */
	pid_t helper;  /* journal-remote, the polling tail or the floor; 0: none */
};

static uint64_t rng = 88172645463325252ull;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void put_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) { /* each turn writes something or fails */
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fatal("write: %s", n < 0 ? strerror(errno) : "wrote nothing");
		p += n;
		len -= (size_t)n;
	}
}

/* "Nov 25 16:10:04 mail dovecot: MSG" -> ident "dovecot", MSG. The tag is
 * the word before the first ": " (timestamps have no ": "), less any [pid]. */
static void split_syslog(const char *line, size_t len, char *ident, size_t ident_len,
			 const char **msg, size_t *msg_len)
{
	const char *colon = memmem(line, len, ": ", 2), *tag, *end;

	if (!colon)
		fatal("not a syslog line: %.*s", (int)len, line);
	for (tag = colon; tag > line && tag[-1] != ' '; tag--)
		;
	end = memchr(tag, '[', (size_t)(colon - tag));
	if (!end)
		end = colon;
	if ((size_t)(end - tag) >= ident_len)
		fatal("tag too long: %.*s", (int)len, line);
	memcpy(ident, tag, (size_t)(end - tag));
	ident[end - tag] = '\0';
	*msg = colon + 2;
	*msg_len = len - (size_t)(*msg - line);
}

/* One entry in journal export format: binary MESSAGE, so any byte passes.
 * _PID and _SYSTEMD_UNIT are the fields journald would add from the sender. */
static void send_export(int fd, const char *ident, const char *msg, size_t msg_len)
{
	char buf[LINE_MAX_LEN + 512];
	struct timespec ts;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = (size_t)snprintf(buf, sizeof(buf),
			     "__REALTIME_TIMESTAMP=%llu\nSYSLOG_IDENTIFIER=%s\n_PID=%d\n"
			     "_SYSTEMD_UNIT=%s.service\nMESSAGE\n",
			     (unsigned long long)ts.tv_sec * 1000000 + (unsigned long long)ts.tv_nsec / 1000,
			     ident, (int)getpid(), ident);
	if (n + 8 + msg_len + 2 > sizeof(buf))
		fatal("journal entry too long");
	for (int i = 0; i < 8; i++)
		buf[n++] = (char)((uint64_t)msg_len >> (8 * i));
	memcpy(buf + n, msg, msg_len);
	n += msg_len;
	buf[n++] = '\n';
	buf[n++] = '\n';
	put_all(fd, buf, n); /* one write: journal-remote sees the entry whole */
}

/* Native protocol, as a program logging through libsystemd would; journald
 * adds _PID and the rest from the socket. */
static void send_journald(const char *ident, const char *msg, size_t msg_len)
{
	char id[64 + sizeof("SYSLOG_IDENTIFIER=")];
	char *m = malloc(8 + msg_len);
	struct iovec iov[3];
	int r;

	if (!m)
		fatal("out of memory");
	memcpy(m, "MESSAGE=", 8); /* sendv wants each field as NAME=value */
	memcpy(m + 8, msg, msg_len);
	snprintf(id, sizeof(id), "SYSLOG_IDENTIFIER=%s", ident);
	iov[0] = (struct iovec){ .iov_base = m, .iov_len = 8 + msg_len };
	iov[1] = (struct iovec){ .iov_base = id, .iov_len = strlen(id) };
	iov[2] = (struct iovec){ .iov_base = "PRIORITY=6", .iov_len = 10 };
	r = sd_journal_sendv(iov, 3);
	free(m);
	if (r < 0)
		fatal("sd_journal_sendv: %s", strerror(-r));
}

static void write_login(struct writer *w, const char *line, size_t len)
{
	char ident[64];
	const char *msg;
	size_t msg_len;

	switch (w->mode) {
	case M_FILE:
	case M_POLL:
	case M_FLOOR:
	case M_FILL: {
		/* One write(2) for the whole line, as syslog daemons do. */
		char buf[LINE_MAX_LEN + 1];

		if (len >= sizeof(buf))
			fatal("line too long");
		memcpy(buf, line, len);
		buf[len] = '\n';
		put_all(w->fd, buf, len + 1);
		break;
	}
	case M_JOURNALD:
		split_syslog(line, len, ident, sizeof(ident), &msg, &msg_len);
		send_journald(ident, msg, msg_len);
		break;
	case M_JOURNAL_REMOTE:
		split_syslog(line, len, ident, sizeof(ident), &msg, &msg_len);
		send_export(w->fd, ident, msg, msg_len);
		break;
	}
}

/* ---- the polling tail and the floor (child processes) -------------------- */

struct tail_gate {
	struct gate_maps maps;
	struct login_parser *parser;
	bool plain; /* the floor: a bare map update */
};

static void tail_line(void *ctx, const char *origin, const char *line, size_t len)
{
	struct tail_gate *g = ctx;
	struct login l;

	(void)origin;
	if (login_parse(g->parser, line, len, &l) != 1)
		return;
	if (g->plain) {
		struct gate_auth v = { .expires_ns = gate_now_ns() + TAIL_WINDOW_S * 1000000000ull };

		bpf_map_update_elem(g->maps.auth_fd, &l.addr, &v, BPF_ANY);
	} else {
		gate_auth_set(&g->maps, &l.addr, TAIL_WINDOW_S, l.user);
	}
}

static int tail_open(struct tail_gate *g, struct line_buf *lb, const char *path,
		     const char *pin_dir, bool plain)
{
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	g->plain = plain;
	if (gate_maps_open(&g->maps, pin_dir) < 0 || login_parser_new(&g->parser, LOGIN_ALL) < 0)
		_exit(1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(1);
	line_buf_init(lb, path, tail_line, g);
	return fd;
}

/* What the file gained since off, through the line splitter. */
static void tail_read(int fd, off_t *off, struct line_buf *lb)
{
	char buf[65536];
	ssize_t n;

	do {
		n = pread(fd, buf, sizeof(buf), *off);
		if (n <= 0)
			return;
		line_buf_feed(lb, buf, (size_t)n);
		*off += n;
	} while ((size_t)n == sizeof(buf));
}

/* Every second: whatever the file gained, through popgated's line splitter
 * and parser, into the map. Runs until killed. */
static void __attribute__((noreturn)) poll_tail(const char *path, const char *pin_dir)
{
	static struct line_buf lb;
	struct tail_gate g;
	uint64_t next = now_ns();
	off_t off = 0;
	int fd = tail_open(&g, &lb, path, pin_dir, false);

	for (;;) {
		next += POLL_PERIOD_NS;
		sleep_until_ns(next);
		tail_read(fd, &off, &lb);
	}
}

/* Woken by inotify, nothing else: 3 system calls per login. Runs until killed. */
static void __attribute__((noreturn)) inotify_floor(const char *path, const char *pin_dir)
{
	static struct line_buf lb;
	struct tail_gate g;
	off_t off = 0;
	int fd = tail_open(&g, &lb, path, pin_dir, true);
	int ino = inotify_init1(IN_CLOEXEC);

	if (ino < 0 || inotify_add_watch(ino, path, IN_MODIFY) < 0)
		_exit(1);
	for (;;) {
		char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

		if (read(ino, ev, sizeof(ev)) <= 0)
			_exit(1);
		tail_read(fd, &off, &lb);
	}
}

static pid_t start_journal_remote(const char *out, int *wfd)
{
	char arg[PATH_MAX + 16];
	int p[2];
	pid_t pid;

	snprintf(arg, sizeof(arg), "--output=%s", out);
	if (pipe2(p, O_CLOEXEC) < 0)
		fatal("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[0], STDIN_FILENO);
		/* Its chatter ("Finishing after writing N entries") is no result;
		 * a failure shows as logins that never arrive. */
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execl(JOURNAL_REMOTE, JOURNAL_REMOTE, arg, "-", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

static void stop_helper(pid_t pid, int sig)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, sig);
	for (int i = 0; i < HELPER_STOP_MS / 10 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
}

static void writer_open(struct writer *w, const struct opts *o)
{
	w->mode = o->mode;
	w->fd = -1;
	w->helper = 0;
	if (o->mode == M_JOURNAL_REMOTE) {
		w->helper = start_journal_remote(o->journal_out, &w->fd);
		return;
	}
	if (o->mode == M_JOURNALD)
		return;
	w->fd = open(o->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (w->fd < 0)
		fatal("%s: %s", o->log, strerror(errno));
	if (o->mode == M_POLL || o->mode == M_FLOOR) {
		if (gate_state_create(o->pin_dir, 0) < 0)
			fatal("%s: cannot create the maps", o->pin_dir);
		w->helper = fork();
		if (w->helper < 0)
			fatal("fork: %s", strerror(errno));
		if (w->helper == 0 && o->mode == M_POLL)
			poll_tail(o->log, o->pin_dir);
		if (w->helper == 0)
			inotify_floor(o->log, o->pin_dir);
	}
}

static void writer_close(struct writer *w)
{
	if (w->mode == M_JOURNAL_REMOTE) {
		close(w->fd); /* EOF: journal-remote writes out and exits */
		stop_helper(w->helper, 0);
	} else {
		stop_helper(w->helper, SIGTERM);
		if (w->fd >= 0)
			close(w->fd);
	}
}

/* ---- the daemon's processes ---------------------------------------------- */

/* popgated is two processes: the privileged half (the pid we know) and its
 * log reader, a child. */
#define MAX_FAMILY 8

static uint64_t family_runtime_ns(pid_t pid)
{
	int kids[MAX_FAMILY];
	size_t n = process_children(pid, kids, MAX_FAMILY);
	uint64_t ns = process_runtime_ns(pid);

	for (size_t i = 0; i < n; i++)
		ns += process_runtime_ns(kids[i]);
	return ns;
}

/* ---- measuring ----------------------------------------------------------- */

static bool visible(int auth_fd, const struct in6_addr *a)
{
	struct gate_auth v;

	return bpf_map_lookup_elem(auth_fd, a, &v) == 0;
}

struct pending {
	size_t idx;
	uint64_t t0;
};

struct result {
	double *us;   /* latencies of the logins seen */
	size_t seen, lost;
};

/* The logins written and not yet seen, matched against the probe's events. */
struct watch {
	struct latency_probe_bpf *skel;
	struct ring_buffer *rb;
	struct pending pend[MAX_PENDING];
	size_t np;
	const struct expect *e;
	struct result *res;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct watch *wt = ctx;
	const struct latency_event *ev = data;

	if (len < sizeof(*ev))
		return 0;
	/* Other updates (the config, a refresh of a login already seen) match
	 * nothing pending. */
	for (size_t k = 0; k < wt->np; k++) {
		struct pending *p = &wt->pend[k];

		if (memcmp(&wt->e->addr[p->idx], ev->key, sizeof(ev->key)))
			continue;
		wt->res->us[wt->res->seen++] = (double)(ev->ts_ns - p->t0) / 1e3;
		*p = wt->pend[--wt->np];
		break;
	}
	return 0;
}

static void watch_start(struct watch *wt, pid_t tgid)
{
	struct stat ns;
	int err;

	wt->skel = latency_probe_bpf__open();
	if (!wt->skel)
		fatal("latency probe: open: %s", strerror(errno));
	if (stat("/proc/self/ns/pid", &ns) < 0)
		fatal("/proc/self/ns/pid: %s", strerror(errno));
	wt->skel->rodata->target_tgid = (__u32)tgid;
	wt->skel->rodata->pidns_dev = (__u64)ns.st_dev;
	wt->skel->rodata->pidns_ino = (__u64)ns.st_ino;
	err = latency_probe_bpf__load(wt->skel);
	if (!err)
		err = latency_probe_bpf__attach(wt->skel);
	if (err)
		fatal("latency probe: load or attach: %s", strerror(-err));
	wt->rb = ring_buffer__new(bpf_map__fd(wt->skel->maps.events), on_event, wt, NULL);
	if (!wt->rb)
		fatal("latency probe: ring buffer: %s", strerror(errno));
}

static void watch_stop(struct watch *wt)
{
	ring_buffer__free(wt->rb);
	latency_probe_bpf__destroy(wt->skel);
}

/* Sleep until deadline (CLOCK_MONOTONIC ns) or a millisecond, whichever
 * is sooner, then take what the probe reported: it wakes nobody (see
 * latency_probe.bpf.c), its stamps do not depend on when they are read. */
static void watch_wait(struct watch *wt, uint64_t deadline)
{
	uint64_t t = now_ns() + WATCH_TICK_NS;

	sleep_until_ns(deadline < t ? deadline : t);
	if (ring_buffer__consume(wt->rb) < 0)
		fatal("latency probe: reading the ring buffer failed");
}

/* Lines [first, end): written on the open-loop schedule, each waited for
 * until the probe saw it enter the map or it timed out. */
static void run(const struct opts *o, struct writer *w, struct watch *wt, const struct lines *l,
		const struct expect *e, size_t first, size_t end, struct result *res)
{
	uint64_t next = now_ns();
	size_t i = first;

	wt->np = 0;
	wt->e = e;
	wt->res = res;
	while (i < end || wt->np > 0) { /* each login leaves pend when seen or timed out */
		uint64_t t = now_ns(), deadline = UINT64_MAX;

		if (i < end && t >= next && wt->np < MAX_PENDING) {
			write_login(w, l->line[i], l->len[i]);
			wt->pend[wt->np++] = (struct pending){ .idx = i++, .t0 = t };
			next = t + o->gap_min_ns + xorshift() % (o->gap_max_ns - o->gap_min_ns + 1);
		}
		t = now_ns();
		for (size_t k = 0; k < wt->np;) {
			struct pending *p = &wt->pend[k];

			if (t - p->t0 < o->timeout_ns) {
				if (p->t0 + o->timeout_ns < deadline)
					deadline = p->t0 + o->timeout_ns;
				k++;
				continue;
			}
			res->lost++;
			*p = wt->pend[--wt->np];
		}
		if (i < end && next < deadline)
			deadline = next;
		if (deadline != UINT64_MAX)
			watch_wait(wt, deadline);
	}
}

/* Warm-up: one login at a time until the reader shows it is reading. A
 * login written before the reader opened its source is never seen (a file
 * is followed from its end): the next one is tried after READY_NS. */
static size_t wait_ready(const struct opts *o, struct writer *w, struct watch *wt,
			 const struct lines *l, const struct expect *e)
{
	struct opts ro = *o;

	if (ro.timeout_ns > READY_NS)
		ro.timeout_ns = READY_NS;
	for (size_t i = 0; i < o->warm; i++) {
		struct result r = { .us = (double[1]){ 0 } };

		run(&ro, w, wt, l, e, i, i + 1, &r);
		if (r.seen)
			return i + 1;
	}
	fatal("%s: none of %zu warm-up logins reached %s within %llu ms each", o->prefix, o->warm,
	      o->pin_dir, (unsigned long long)(ro.timeout_ns / 1000000));
}

static void report_latency(const struct opts *o, struct result *r)
{
	double sum = 0;

	sort_doubles(r->us, r->seen);
	for (size_t i = 0; i < r->seen; i++)
		sum += r->us[i];
	metric(o->prefix, "logins", (double)(r->seen + r->lost));
	metric(o->prefix, "seen", (double)r->seen);
	metric(o->prefix, "lost", (double)r->lost);
	metric(o->prefix, "p50_us", percentile(r->us, r->seen, 0.50));
	metric(o->prefix, "p90_us", percentile(r->us, r->seen, 0.90));
	metric(o->prefix, "p99_us", percentile(r->us, r->seen, 0.99));
	metric(o->prefix, "max_us", r->seen ? r->us[r->seen - 1] : 0);
	metric(o->prefix, "mean_us", r->seen ? sum / (double)r->seen : 0);
}

/* ---- fill ---------------------------------------------------------------- */

static long status_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		fatal("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* The kernel's own account of the map's memory (map_mem_usage, 6.4+). */
static long long map_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		fatal("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "memlock:", 8))
			v = strtoll(line + 8, NULL, 10);
	fclose(f);
	return v;
}

/* VmRSS (and VmHWM) of the privileged half, of its reader, and their sum. */
static void report_rss(const struct opts *o, const char *when, bool hwm)
{
	int kids[MAX_FAMILY];
	size_t n = process_children(o->daemon, kids, MAX_FAMILY);
	long main_rss = status_kib(o->daemon, "VmRSS"), reader_rss = 0, reader_hwm = 0;
	char name[64];

	for (size_t i = 0; i < n; i++) {
		reader_rss += status_kib(kids[i], "VmRSS");
		reader_hwm += status_kib(kids[i], "VmHWM");
	}
	snprintf(name, sizeof(name), "%srss_kib", when);
	metric(o->prefix, name, (double)(main_rss + reader_rss));
	snprintf(name, sizeof(name), "%smain_rss_kib", when);
	metric(o->prefix, name, (double)main_rss);
	snprintf(name, sizeof(name), "%sreader_rss_kib", when);
	metric(o->prefix, name, (double)reader_rss);
	if (hwm) {
		metric(o->prefix, "main_hwm_kib", (double)status_kib(o->daemon, "VmHWM"));
		metric(o->prefix, "reader_hwm_kib", (double)reader_hwm);
	}
}

static unsigned long long count_entries(int fd, unsigned long long max)
{
	struct in6_addr key, next;
	unsigned long long n = 0;
	void *prev = NULL;

	while (n <= max && bpf_map_get_next_key(fd, prev, &next) == 0) { /* bounded by max */
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* Warm-up logins written before the daemon opened its log are never read
 * (it follows from the end): only those it saw count. */
static size_t warm_seen(int auth_fd, const struct expect *e, size_t first)
{
	size_t n = 0;

	for (size_t i = 0; i < first; i++)
		n += visible(auth_fd, &e->addr[i]);
	return n;
}

static void fill(const struct opts *o, struct writer *w, struct watch *wt,
		 const struct gate_maps *maps, const struct lines *l, const struct expect *e)
{
	int auth_fd = maps->auth_fd;
	size_t first = wait_ready(o, w, wt, l, e);
	const char *from = first < l->n ? l->line[first] : l->data + l->bytes;
	size_t left = (size_t)(l->data + l->bytes - from);
	uint32_t max_entries = 0;
	uint64_t t0, t_written, t1;

	report_rss(o, "idle_", false);
	metric(o->prefix, "idle_map_memlock_bytes", (double)map_memlock(auth_fd));
	t0 = now_ns();
	while (left > 0) { /* whole lines per write, as a syslog daemon appends */
		size_t n = left < FILL_CHUNK ? left : FILL_CHUNK;
		const char *nl = memrchr(from, '\n', n);

		if (nl && n < left)
			n = (size_t)(nl - from) + 1;
		put_all(w->fd, from, n);
		from += n;
		left -= n;
	}
	t_written = now_ns();
	/* Lines are applied in order: the last address seen means all were read.
	 * Polled gently, so the daemon keeps its core. */
	while (!visible(auth_fd, &e->addr[e->n - 1]) && now_ns() - t_written < o->timeout_ns)
		usleep(1000);
	t1 = now_ns();
	if (!visible(auth_fd, &e->addr[e->n - 1]))
		fatal("%s: the last login did not reach the map within %llu ms", o->prefix,
		      (unsigned long long)(o->timeout_ns / 1000000));
	gate_auth_capacity(maps, &max_entries);
	metric(o->prefix, "logins", (double)(l->n - first));
	metric(o->prefix, "write_s", (double)(t_written - t0) / 1e9);
	metric(o->prefix, "applied_s", (double)(t1 - t0) / 1e9);
	metric(o->prefix, "logins_per_s", (double)(l->n - first) / ((double)(t1 - t0) / 1e9));
	metric(o->prefix, "entries", (double)count_entries(auth_fd, max_entries));
	metric(o->prefix, "expected_entries", (double)(l->n - first + warm_seen(auth_fd, e, first)));
	metric(o->prefix, "max_entries", (double)max_entries);
	report_rss(o, "", true);
	metric(o->prefix, "map_memlock_bytes", (double)map_memlock(auth_fd));
}

/* The daemon pins its maps at start: give it a moment, bounded. libbpf pins
 * each map as it creates it, so gate_auth's pin alone does not mean the
 * others are there yet. */
static void wait_for_pins(const char *pin_dir)
{
	char path[PATH_MAX];
	struct stat st;
	int waited = 0;

	for (size_t m = 0; m < GATE_NMAPS; m++) {
		if (gate_pin_path(path, sizeof(path), pin_dir, gate_map_names[m]) < 0)
			fatal("%s: bad pin dir", pin_dir);
		for (; waited < PIN_WAIT_MS / 10 && stat(path, &st) < 0; waited++)
			usleep(10000);
	}
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_latency file|journald|journal-remote|poll|floor|fill -P PIN_DIR -L LINES "
		"-E EXPECT\n  [-l LOG] [-J JOURNAL_FILE] [-n N] [-w WARM] [-g MIN_US:MAX_US] "
		"[-t TIMEOUT_MS] [-p DAEMON_PID] [-m PREFIX]\n");
	exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const char *const modes[] = { [M_FILE] = "file", [M_JOURNALD] = "journald",
					     [M_JOURNAL_REMOTE] = "journal-remote",
					     [M_POLL] = "poll", [M_FLOOR] = "floor",
					     [M_FILL] = "fill" };
	unsigned long long gmin = 500, gmax = 1500, tmo = 2000;
	size_t m;
	int c;

	if (argc < 2)
		usage();
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]) && strcmp(argv[1], modes[m]); m++)
		;
	if (m == sizeof(modes) / sizeof(modes[0]))
		usage();
	*o = (struct opts){ .mode = (enum mode)m, .n = 1000, .warm = 20, .prefix = argv[1] };
	optind = 2;
	while ((c = getopt(argc, argv, "P:L:E:l:J:n:w:g:t:p:m:")) != -1) {
		switch (c) {
		case 'P': o->pin_dir = optarg; break;
		case 'L': o->lines = optarg; break;
		case 'E': o->expect = optarg; break;
		case 'l': o->log = optarg; break;
		case 'J': o->journal_out = optarg; break;
		case 'n': o->n = strtoull(optarg, NULL, 0); break;
		case 'w': o->warm = strtoull(optarg, NULL, 0); break;
		case 'g':
			if (sscanf(optarg, "%llu:%llu", &gmin, &gmax) != 2 || gmax < gmin)
				usage();
			break;
		case 't': tmo = strtoull(optarg, NULL, 0); break;
		case 'p': o->daemon = (pid_t)atoi(optarg); break;
		case 'm': o->prefix = optarg; break;
		default: usage();
		}
	}
	o->gap_min_ns = gmin * 1000;
	o->gap_max_ns = gmax * 1000;
	o->timeout_ns = tmo * 1000000;
	if (!o->pin_dir || !o->lines || !o->expect || !o->warm || optind != argc ||
	    (o->mode != M_JOURNALD && o->mode != M_JOURNAL_REMOTE && !o->log) ||
	    (o->mode == M_JOURNAL_REMOTE && !o->journal_out) ||
	    (o->mode != M_POLL && o->mode != M_FLOOR && !o->daemon))
		usage();
}

int main(int argc, char **argv)
{
	static struct watch wt;
	struct gate_maps maps;
	struct writer w;
	struct expect e;
	struct lines l;
	struct opts o;

	parse_opts(argc, argv, &o);
	lines_load(&l, o.lines);
	expect_load(&e, o.expect);
	if (e.n != l.n || !l.n)
		fatal("%s: %zu lines, %s: %zu addresses: not one login per line", o.lines, l.n,
		      o.expect, e.n);
	if (o.mode != M_FILL && o.warm + o.n > l.n)
		fatal("%s: %zu lines, %zu needed", o.lines, l.n, o.warm + o.n);
	writer_open(&w, &o);
	wait_for_pins(o.pin_dir);
	if (gate_maps_open(&maps, o.pin_dir) < 0)
		fatal("%s: no maps (is popgated running with this pin_dir?)", o.pin_dir);
	/* popgated's privileged half writes the map; for poll and floor, our child. */
	watch_start(&wt, o.daemon ? o.daemon : w.helper);
	if (o.mode == M_FILL) {
		fill(&o, &w, &wt, &maps, &l, &e);
	} else {
		size_t first = wait_ready(&o, &w, &wt, &l, &e);
		struct result r = { .us = calloc(o.n + 1, sizeof(double)) };
		struct cpu_busy busy;

		if (!r.us)
			fatal("out of memory");
		pid_t reader = o.daemon ? o.daemon : w.helper;
		uint64_t cpu0 = reader ? family_runtime_ns(reader) : 0;

		cpu_busy_start(&busy);
		run(&o, &w, &wt, &l, &e, first, first + o.n, &r);
		metric(o.prefix, "cpu_busy_pct", cpu_busy_pct(&busy));
		/* What the reader itself spent per login: unlike the latency,
		 * other load hardly moves it. */
		if (reader)
			metric(o.prefix, "reader_cpu_us_per_login",
			       (double)(family_runtime_ns(reader) - cpu0) / 1e3 / (double)o.n);
		report_latency(&o, &r);
		free(r.us);
	}
	watch_stop(&wt);
	writer_close(&w);
	gate_maps_close(&maps);
	expect_free(&e);
	lines_free(&l);
	return 0;
}
