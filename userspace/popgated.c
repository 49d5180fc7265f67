/*
 * popgated - authorize relay clients on their POP3/IMAP logins.
 *
 * The privileged half: it holds the maps and the attachments. Its reader
 * (reader.h), a process without capabilities, follows the logs and parses
 * them, and sends login records; one epoll loop here writes them into the
 * pinned gate_auth map, and watches signals (HUP: reload, TERM/INT: stop),
 * a sweep timer, link events (re-attach a configured interface that comes
 * back) and the pin dir. The kernel enforces expiry by itself, so nothing
 * here is on the enforcement path: if this process dies, the gate stays
 * closed to strangers and open to those already authorized.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "addr.h"
#include "attach.h"
#include "bpf_log.h"
#include "config.h"
#include "duration.h"
#include "gate_apply.h"
#include "gate_maps.h"
#include "iface.h"
#include "login_parse.h"
#include "msg.h"
#include "reader.h"

#define DEFAULT_CONFIG "/etc/popgate/popgate.conf"
#define MAX_IFACES 64
#define READER_READY_MS 10000
#define SWEEP_BATCHES 16
#define READER_RESPAWN_MIN_S 1
#define READER_RESPAWN_MAX_S 64
#define EXIT_BAD_CONFIG 1
#define EXIT_FAILURE_RUN 1
#define EXIT_USAGE 2

/* epoll tags: which kind of fd woke us. */
enum { TAG_SIGNAL = 1, TAG_SWEEP, TAG_LINK, TAG_PINS, TAG_READER, TAG_RESPAWN };

struct daemon {
	const char *config_path;
	struct config cfg;
	struct gate_maps maps;
	int ep, sig_fd, sweep_fd, pins_fd, reader_fd, respawn_fd;
	pid_t reader_pid;
	unsigned respawn_s;
	struct gate_sweep sweep;
	unsigned seen_stale;   /* keys deleted since gate_seen was rebuilt */
	uint64_t sweep_now;
	bool sweeping;
	struct iface_watch *links;
	int ifindex[MAX_IFACES]; /* last attached ifindex per cfg.ifaces[i] */
	bool from_start, detach_on_exit, running;
	cpu_set_t cpus;          /* ours at start: where the reader may be followed */
	int cpu;                 /* the reader's, where we are held; -1: not held */
	uint64_t logins, authorized, refused_full, write_errors;
	struct msg_ratelimit full_rl, err_rl;
};

static void notify_status(struct daemon *d)
{
	sd_notifyf(0, "STATUS=%llu logins seen, %llu addresses authorized, %llu refused (map full)",
		   (unsigned long long)d->logins, (unsigned long long)d->authorized,
		   (unsigned long long)d->refused_full);
}

static void authorize(struct daemon *d, const struct login_record *l)
{
	char text[ADDR_STRLEN], user[GATE_USER_LEN], dur[32];
	uint64_t held = 0;
	int err;

	addr_format(&l->addr, text, sizeof(text));
	/* The reader drops these; a reader that does not is not believed. */
	if (IN6_IS_ADDR_UNSPECIFIED(&l->addr) ||
	    (addr_is_v4(&l->addr) && !memcmp(&l->addr.s6_addr[12], "\0\0\0\0", 4)))
		return;
	/* The map keeps GATE_USER_LEN - 1 bytes: enough to tell who it was. */
	memcpy(user, l->user, sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	err = gate_auth_set(&d->maps, &l->addr, d->cfg.window_s, user);
	if (err == -E2BIG) {
		d->refused_full++;
		if (msg_ratelimit(&d->full_rl, &held))
			msg(LOG_ERR, "%s/%s is full (max_entries %u): %s <%s> NOT authorized; "
			    "%llu more refused since the last message; raise max_entries or "
			    "shorten window", d->cfg.pin_dir, GATE_MAP_AUTH, d->cfg.max_entries,
			    text, user, (unsigned long long)held);
		notify_status(d);
		return;
	}
	if (err) {
		d->write_errors++;
		if (msg_ratelimit(&d->err_rl, &held))
			msg(LOG_ERR, "%s <%s> NOT authorized: writing %s/%s: %s",
			    text, user, d->cfg.pin_dir, GATE_MAP_AUTH, strerror(-err));
		return;
	}
	d->authorized++;
	duration_format(d->cfg.window_s, dur, sizeof(dur));
	/* The name is the client's own text: bracket it so it cannot pose
	 * as another field of this line. */
	msg(LOG_INFO, "%s login of <%s> from %s: authorized for %s", login_format_name(l->format),
	    user, text, dur);
	notify_status(d);
}

static int epoll_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The next sweep; a sweep or screen rebuild under way goes on at the next
 * turn of the loop instead (a rebuild holds the pin-dir lock). */
static int arm_sweep(struct daemon *d)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)d->cfg.sweep_interval_s },
		.it_interval = { .tv_sec = (time_t)d->cfg.sweep_interval_s },
	};

	if (d->sweeping || d->maps.rebuilding)
		its = (struct itimerspec){ .it_value = { .tv_nsec = 1000000 } };
	return timerfd_settime(d->sweep_fd, 0, &its, NULL) < 0 ? -errno : 0;
}

static int is_active(void *ctx, const struct attach_info *a)
{
	const char *name = ctx;

	return a->active && strcmp(a->ifname, name) == 0;
}

/*
 * Pins removed by an operator or a cleanup script take the XDP links (and
 * with them the gate) away, and leave this process writing to maps nobody
 * reads. Put back what this process holds and re-attach what is missing.
 */
static void guard_state(struct daemon *d)
{
	int r = gate_maps_repin(&d->maps);

	if (r == -ESTALE) {
		msg(LOG_WARNING, "%s: the maps were replaced by new ones; following them "
		    "(authorizations held in the old maps are lost)", d->cfg.pin_dir);
		gate_maps_close(&d->maps);
		if (gate_maps_open(&d->maps, d->cfg.pin_dir) == 0)
			gate_apply_policy(&d->maps, &d->cfg, NULL);
	} else if (r > 0) {
		msg(LOG_ERR, "%s: %d pinned map%s had been removed; pinned again", d->cfg.pin_dir,
		    r, r == 1 ? "" : "s");
	}
	for (size_t i = 0; i < d->cfg.n_ifaces && i < MAX_IFACES; i++) {
		struct config_iface *ci = &d->cfg.ifaces[i];

		if (!d->ifindex[i] || gate_attach_foreach(d->cfg.pin_dir, is_active, ci->name) > 0)
			continue;
		msg(LOG_ERR, "%s: the gate is no longer attached (pins removed?); attaching again",
		    ci->name);
		gate_apply_iface(&d->maps, ci);
	}
	/* A removed directory took the watch with it. */
	inotify_add_watch(d->pins_fd, d->cfg.pin_dir, IN_DELETE | IN_DELETE_SELF | IN_MOVED_FROM);
}

static void on_pins_changed(struct daemon *d)
{
	char buf[4096];

	while (read(d->pins_fd, buf, sizeof(buf)) > 0)
		;
	guard_state(d);
}

/* One slice of a screen rebuild; the sweeps resume when it is over. */
static void rebuild_step(struct daemon *d)
{
	int r = gate_seen_rebuild_step(&d->maps, SWEEP_BATCHES);

	if (r < 0)
		msg(LOG_ERR, "%s/%s: rebuilding: %s", d->cfg.pin_dir, GATE_MAP_SEEN, strerror(-r));
	else if (r > 0)
		d->seen_stale = 0;
	arm_sweep(d);
}

/*
 * The sweep goes in slices of SWEEP_BATCHES batches (~64k entries, tens of
 * milliseconds), one per turn of the loop, so logins are never held up for
 * long however large the map; so does the screen rebuild that may follow.
 */
static void sweep(struct daemon *d)
{
	uint64_t ticks;
	int r;

	if (read(d->sweep_fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (d->maps.rebuilding) {
		rebuild_step(d);
		return;
	}
	if (!d->sweeping) {
		guard_state(d); /* also catches what inotify cannot see */
		/* The program's idea of CLOCK_BOOTTIME, put right after a suspend. */
		if ((r = gate_clock_sync(&d->maps)))
			msg(LOG_ERR, "%s/%s: writing the clock offset: %s", d->cfg.pin_dir,
			    GATE_MAP_CONFIG, strerror(-r));
		d->sweep = (struct gate_sweep){ 0 };
		d->sweep_now = gate_now_ns();
		d->sweeping = true;
	}
	r = gate_auth_sweep_step(&d->maps, d->sweep_now, &d->sweep, SWEEP_BATCHES);
	if (r == 0) {
		arm_sweep(d);
		return;
	}
	d->sweeping = false;
	if (r < 0)
		msg(LOG_ERR, "%s/%s: sweeping expired entries: %s", d->cfg.pin_dir, GATE_MAP_AUTH,
		    strerror(-r));
	else if (d->sweep.deleted)
		msg(LOG_DEBUG, "swept %u expired authorization%s, %u active", d->sweep.deleted,
		    d->sweep.deleted == 1 ? "" : "s", d->sweep.remaining);
	d->seen_stale += d->sweep.deleted;
	/* Stale bits, or a screen sized for another number of keys, only let
	 * some unknown sources reach the hash lookup; a rebuild reads the whole
	 * map, so it waits until they are many, or the size is off by 2x. */
	if (r > 0 && ((d->seen_stale && (uint64_t)d->seen_stale * 4 >= d->sweep.remaining) ||
		      gate_seen_resize_due(&d->maps, d->sweep.remaining) > 0) &&
	    (r = gate_seen_rebuild_begin(&d->maps)))
		msg(LOG_ERR, "%s/%s: starting a rebuild: %s", d->cfg.pin_dir, GATE_MAP_SEEN,
		    strerror(-r));
	arm_sweep(d);
}

static void remember_ifindexes(struct daemon *d)
{
	for (size_t i = 0; i < d->cfg.n_ifaces && i < MAX_IFACES; i++) {
		struct iface_info ifi;

		d->ifindex[i] = iface_lookup(d->cfg.ifaces[i].name, &ifi) == 0 ? ifi.ifindex : 0;
	}
}

static void on_link(void *ctx, enum iface_event ev, const struct iface_info *ifi)
{
	struct daemon *d = ctx;

	for (size_t i = 0; i < d->cfg.n_ifaces && i < MAX_IFACES; i++) {
		if (strcmp(d->cfg.ifaces[i].name, ifi->name) != 0)
			continue;
		if (ev == IFACE_GONE) {
			if (d->ifindex[i] == ifi->ifindex) {
				msg(LOG_WARNING, "%s: interface went away; the gate goes back on "
				    "when it returns", ifi->name);
				d->ifindex[i] = 0;
			}
		} else if (d->ifindex[i] != ifi->ifindex) {
			/* A new ifindex is a new device: its old attachment died with it. */
			msg(LOG_NOTICE, "%s: interface appeared (index %d), attaching the gate",
			    ifi->name, ifi->ifindex);
			if (gate_apply_iface(&d->maps, &d->cfg.ifaces[i]) == 0)
				d->ifindex[i] = ifi->ifindex;
		}
	}
}

/* SIGHUP: a bad file changes nothing; a good one is applied adding before
 * removing, so enforcement never lapses. */
static void reload(struct daemon *d)
{
	struct config nc;

	sd_notify(0, "RELOADING=1");
	msg(LOG_NOTICE, "%s: reloading", d->config_path);
	config_init_defaults(&nc);
	if (config_load(d->config_path, &nc) < 0) {
		msg(LOG_ERR, "%s: reload failed; the running configuration stays in force",
		    d->config_path);
		goto done;
	}
	if (strcmp(nc.pin_dir, d->cfg.pin_dir) != 0 || nc.max_entries != d->cfg.max_entries ||
	    strcmp(nc.reader_user, d->cfg.reader_user) != 0) {
		msg(LOG_ERR, "%s: pin_dir, max_entries and reader_user change only with a restart; "
		    "the running configuration stays in force", d->config_path);
		config_free(&nc);
		goto done;
	}
	gate_apply_policy(&d->maps, &nc, &d->cfg);
	gate_apply_ifaces(&d->maps, &nc, &d->cfg);
	/* The reader loads the same file for its sources and patterns. */
	if (d->reader_pid > 0 && reader_reload(d->reader_fd) < 0)
		msg(LOG_WARNING, "the log reader was not asked to reload: its sources and patterns "
		    "stay as they were");
	config_free(&d->cfg);
	d->cfg = nc;
	msg_set_level(d->cfg.log_level);
	remember_ifindexes(d);
	arm_sweep(d);
	msg(LOG_NOTICE, "%s: reloaded", d->config_path);
done:
	sd_notify(0, "READY=1");
	notify_status(d);
}

static void stop_reader(struct daemon *d)
{
	if (d->reader_fd >= 0) {
		epoll_ctl(d->ep, EPOLL_CTL_DEL, d->reader_fd, NULL);
		close(d->reader_fd);
		d->reader_fd = -1;
	}
	if (d->reader_pid <= 0)
		return;
	/* The closed socket ends it. One that hangs is killed, which takes
	 * CAP_KILL (it is another user); without, it is left to its
	 * parent-death signal rather than waited for forever. */
	for (int i = 0; i < 200 && waitpid(d->reader_pid, NULL, WNOHANG) == 0; i++)
		usleep(10000);
	if (waitpid(d->reader_pid, NULL, WNOHANG) == 0) {
		if (kill(d->reader_pid, SIGKILL) == 0)
			waitpid(d->reader_pid, NULL, 0);
		else
			msg(LOG_ERR, "the log reader (pid %d) does not end and cannot be killed: %s",
			    (int)d->reader_pid, strerror(errno));
	}
	d->reader_pid = 0;
}

/*
 * Run where the reader last ran. Its record wakes us, and the scheduler
 * puts a wakee on an idle CPU first, on a VM a halted vCPU that the host
 * may take a millisecond to run again, while the reader is about to sleep
 * on its own (tests/bench/DAEMON.md: p99 0.6-1.8 ms, 0.13-0.19 ms held
 * here). The reader's word is checked against the CPUs we were given.
 */
static void follow_reader(struct daemon *d, int32_t cpu)
{
	cpu_set_t one;

	if (cpu == d->cpu || cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &d->cpus))
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	/* Refused (a cpuset changed, the CPU went offline): stay where we are. */
	if (sched_setaffinity(0, sizeof(one), &one) == 0)
		d->cpu = cpu;
}

/* Undo follow_reader(): a new reader inherits our CPUs, all of them. */
static void unfollow_reader(struct daemon *d)
{
	if (d->cpu >= 0 && sched_setaffinity(0, sizeof(d->cpus), &d->cpus) == 0)
		d->cpu = -1;
}

/*
 * The reader announces itself once it follows its sources; only then is
 * anyone told that we run, so a login logged right after READY is seen.
 */
static int start_reader(struct daemon *d)
{
	struct login_record hello;
	struct pollfd p;
	unsigned got = 0;
	int err;

	unfollow_reader(d);
	err = reader_spawn(d->config_path, d->from_start, d->cfg.reader_user, &d->reader_fd,
			   &d->reader_pid);
	if (err) {
		msg(LOG_ERR, "starting the log reader: %s", strerror(-err));
		return err;
	}
	p = (struct pollfd){ .fd = d->reader_fd, .events = POLLIN };
	if (poll(&p, 1, READER_READY_MS) != 1 || reader_recv(d->reader_fd, &hello, 1, &got) ||
	    got != 1 || hello.format != 0) {
		msg(LOG_ERR, "the log reader did not come up (see its messages above)");
		stop_reader(d);
		return -EIO;
	}
	d->respawn_s = READER_RESPAWN_MIN_S;
	return epoll_add(d->ep, d->reader_fd, TAG_READER);
}

/* A dead reader costs logins, never enforcement: start another, backing
 * off while it keeps failing (a configuration broken since start). */
static void reader_gone(struct daemon *d)
{
	struct itimerspec its = { .it_value = { .tv_sec = d->respawn_s } };
	int status = 0;

	epoll_ctl(d->ep, EPOLL_CTL_DEL, d->reader_fd, NULL);
	close(d->reader_fd);
	d->reader_fd = -1;
	if (d->reader_pid > 0)
		waitpid(d->reader_pid, &status, 0);
	d->reader_pid = 0;
	msg(LOG_ERR, "the log reader ended (%s %d); logins are not seen until it runs again, "
	    "in %us", WIFSIGNALED(status) ? "signal" : "status",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), d->respawn_s);
	timerfd_settime(d->respawn_fd, 0, &its, NULL);
	if (d->respawn_s < READER_RESPAWN_MAX_S)
		d->respawn_s *= 2;
}

static void on_reader(struct daemon *d)
{
	struct login_record recs[READER_RECV_MAX];
	unsigned got;
	int r;

	do {
		r = reader_recv(d->reader_fd, recs, READER_RECV_MAX, &got);
		for (unsigned i = 0; i < got; i++) {
			d->logins++;
			authorize(d, &recs[i]);
		}
		if (got)
			follow_reader(d, recs[got - 1].cpu);
	} while (r == 0 && got == READER_RECV_MAX);
	if (r < 0)
		reader_gone(d);
}

static void respawn(struct daemon *d)
{
	uint64_t ticks;

	if (read(d->respawn_fd, &ticks, sizeof(ticks)) < 0 || d->reader_pid > 0)
		return;
	if (start_reader(d) == 0)
		msg(LOG_NOTICE, "the log reader runs again");
	else
		reader_gone(d);
}

static int setup(struct daemon *d)
{
	sigset_t mask;
	int err;

	if (gate_state_create(d->cfg.pin_dir, d->cfg.max_entries) ||
	    gate_maps_open(&d->maps, d->cfg.pin_dir))
		return -EIO;
	/* Policy before attaching: the first packet already sees the config. */
	if ((err = gate_apply_policy(&d->maps, &d->cfg, NULL)))
		return err;
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->sweep_fd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	d->pins_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (d->ep < 0 || d->sig_fd < 0 || d->sweep_fd < 0 || d->pins_fd < 0)
		return -errno;
	if (inotify_add_watch(d->pins_fd, d->cfg.pin_dir,
			      IN_DELETE | IN_DELETE_SELF | IN_MOVED_FROM) < 0)
		return -errno;
	if ((err = epoll_add(d->ep, d->sig_fd, TAG_SIGNAL)) ||
	    (err = epoll_add(d->ep, d->sweep_fd, TAG_SWEEP)) ||
	    (err = epoll_add(d->ep, d->pins_fd, TAG_PINS)) || (err = arm_sweep(d)))
		return err;
	/* The reader before attaching: one that cannot start (its user, its
	 * capabilities) must not leave a gate that nobody opens. Its records
	 * wait in the socket until the loop runs. */
	d->respawn_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->respawn_fd < 0)
		return -errno;
	/* Unknown: the reader is not followed (follow_reader()). */
	if (sched_getaffinity(0, sizeof(d->cpus), &d->cpus) < 0)
		CPU_ZERO(&d->cpus);
	if ((err = epoll_add(d->ep, d->respawn_fd, TAG_RESPAWN)) || (err = start_reader(d)))
		return err;
	/* Watch links before attaching: an interface born in between is seen. */
	err = iface_watch_new(&d->links, on_link, d);
	if (err) {
		msg(LOG_ERR, "watching network links (netlink): %s", strerror(-err));
		return err;
	}
	if ((err = epoll_add(d->ep, iface_watch_fd(d->links), TAG_LINK)))
		return err;
	if ((err = gate_apply_ifaces(&d->maps, &d->cfg, NULL)))
		return err;
	remember_ifindexes(d);
	return 0;
}

/* Returns when asked to stop. */
static void run(struct daemon *d)
{
	struct epoll_event evs[16];

	for (;;) {
		int n = epoll_wait(d->ep, evs, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_SIGNAL) {
				struct signalfd_siginfo si;

				while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP)
						reload(d);
					else
						return;
				}
			} else if (tag == TAG_SWEEP) {
				sweep(d);
			} else if (tag == TAG_LINK) {
				iface_watch_dispatch(d->links);
			} else if (tag == TAG_PINS) {
				on_pins_changed(d);
			} else if (tag == TAG_READER) {
				on_reader(d);
			} else if (tag == TAG_RESPAWN) {
				respawn(d);
			}
		}
	}
}

static void shutdown_daemon(struct daemon *d)
{
	sd_notify(0, "STOPPING=1");
	if (d->detach_on_exit) {
		for (size_t i = 0; i < d->cfg.n_ifaces; i++)
			if (gate_detach(d->cfg.pin_dir, d->cfg.ifaces[i].name) == 0)
				msg(LOG_NOTICE, "%s: gate detached (--detach-on-exit)",
				    d->cfg.ifaces[i].name);
	} else if (d->cfg.n_ifaces && d->running) {
		msg(LOG_NOTICE, "stopping; the gate stays attached and authorizations keep "
		    "expiring on time in the kernel");
	}
	stop_reader(d);
	iface_watch_free(d->links);
	gate_maps_close(&d->maps);
	config_free(&d->cfg);
}

/*
 * After a failed setup: name the capabilities this process lacks, since
 * libbpf's hints (ulimit -l, kernel support) point elsewhere.
 */
static void explain_capabilities(void)
{
	static const struct { int bit; const char *name; } need[] = {
		{ 39, "CAP_BPF" }, { 38, "CAP_PERFMON" }, { 12, "CAP_NET_ADMIN" },
	};
	unsigned long long eff = 0;
	char line[256], missing[96] = "";
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(eff & (1ull << need[i].bit)))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
				 missing[0] ? ", " : "", need[i].name);
	if (missing[0])
		msg(LOG_ERR, "this process lacks %s: popgated needs CAP_BPF, CAP_PERFMON and "
		    "CAP_NET_ADMIN (see popgated(8))", missing);
}

static const char usage_text[] =
	"usage: popgated [-c FILE] [--check] [--from-start] [--detach-on-exit] [-v]\n"
	"\n"
	"  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
	"      --check         validate the configuration and exit\n"
	"      --from-start    read log files from their start, not their end\n"
	"      --detach-on-exit  take the gate off the interfaces on SIGTERM\n"
	"                      (default: leave it on, so a restart never lapses)\n"
	"  -v, --verbose       log at debug level\n"
	"\n"
	"signals: HUP reloads the configuration, TERM and INT stop.\n"
	"exit status: 0 clean stop or valid config, 1 bad configuration or failure\n"
	"to set up, 2 bad usage.\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "from-start", no_argument, NULL, 's' },
		{ "detach-on-exit", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct daemon d = { .config_path = DEFAULT_CONFIG, .ep = -1, .sig_fd = -1, .sweep_fd = -1,
			    .pins_fd = -1, .reader_fd = -1, .respawn_fd = -1, .cpu = -1,
			    .full_rl = { .interval_ms = 10000 }, .err_rl = { .interval_ms = 10000 } };
	bool check = false, verbose = false;
	size_t nsrc;
	int c, err;

	msg_set_ident("popgated: ");
	bpf_log_init();
	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d.config_path = optarg; break;
		case 'k': check = true; break;
		case 's': d.from_start = true; break;
		case 'd': d.detach_on_exit = true; break;
		case 'v': verbose = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: fputs(usage_text, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	config_init_defaults(&d.cfg);
	if (config_load(d.config_path, &d.cfg) < 0) {
		msg(LOG_ERR, "%s: configuration not valid; nothing attached", d.config_path);
		return EXIT_BAD_CONFIG;
	}
	if (check) {
		/* What the log reader will face: a configuration it cannot read
		 * stops popgated; a log it cannot read is only reported. */
		err = reader_check_access(d.config_path, &d.cfg);
		if (err == READER_ACCESS_UNCHECKED)
			printf("%s: not checked whether the log reader (reader_user %s) can read "
			       "the files: that takes root\n", d.config_path, d.cfg.reader_user);
		if (err < 0) {
			printf("%s: valid, but the log reader (reader_user %s) cannot start: %s\n",
			       d.config_path, d.cfg.reader_user, strerror(-err));
			config_free(&d.cfg);
			return EXIT_BAD_CONFIG;
		}
		printf("%s: configuration valid\n", d.config_path);
		if (verbose)
			config_print(&d.cfg, stdout);
		config_free(&d.cfg);
		return 0;
	}
	msg_set_level(verbose ? LOG_DEBUG : d.cfg.log_level);
	err = setup(&d);
	if (err) {
		msg(LOG_ERR, "setup failed (%s); stopping", strerror(-err));
		explain_capabilities();
		shutdown_daemon(&d);
		return EXIT_FAILURE_RUN;
	}
	d.running = true;
	sd_notify(0, "READY=1");
	notify_status(&d);
	nsrc = d.cfg.n_logs + d.cfg.journal + d.cfg.read_stdin;
	msg(LOG_NOTICE, "running: %zu log source%s, window %llus, pin dir %s", nsrc,
	    nsrc == 1 ? "" : "s", (unsigned long long)d.cfg.window_s, d.cfg.pin_dir);
	run(&d);
	shutdown_daemon(&d);
	return 0;
}
