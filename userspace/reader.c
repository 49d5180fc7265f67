/* reader.c - see reader.h. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "log_source.h"
#include "msg.h"

#define MAX_SOURCES 64
#define READER_SOCK_FD 3
#define TAG_SIGNAL 1
#define TAG_RETRY 2
#define TAG_PARENT 3
#define READER_GROUPS_MAX 64
#define RETRY_MIN_S 2
#define RETRY_MAX_S 64
#define JOURNAL_POLL_MS 20

struct reader {
	const char *config_path;
	bool from_start;
	struct config cfg;
	struct login_parser *parser;
	struct log_source *sources[MAX_SOURCES];
	size_t n_sources;
	bool stdin_opened;
	unsigned retry_s;
	int ep, sig_fd, retry_fd;
};

static int build_parser(const struct config *c, struct login_parser **out)
{
	struct login_parser *p;
	char why[256];
	int err = login_parser_new(&p, c->formats);

	if (err) {
		msg(LOG_ERR, "creating the login parser: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < c->n_patterns; i++) {
		why[0] = '\0';
		err = login_parser_add_pattern(p, c->patterns[i].text, why, sizeof(why));
		if (err) {
			msg(LOG_ERR, "%s: pattern: %s", c->patterns[i].origin, why);
			login_parser_free(p);
			return err;
		}
	}
	*out = p;
	return 0;
}

static void on_line(void *ctx, const char *origin, const char *line, size_t len)
{
	struct reader *r = ctx;
	struct login_record rec;
	struct login l;
	char text[ADDR_STRLEN];

	if (login_parse(r->parser, line, len, &l) != 1)
		return;
	/* An unspecified address is a server's placeholder, never a client. */
	if (IN6_IS_ADDR_UNSPECIFIED(&l.addr) ||
	    (addr_is_v4(&l.addr) && !memcmp(&l.addr.s6_addr[12], "\0\0\0\0", 4))) {
		addr_format(&l.addr, text, sizeof(text));
		msg(LOG_WARNING, "%s: login of <%s> from %s: not a client address, ignored",
		    origin, l.user, text);
		return;
	}
	memset(&rec, 0, sizeof(rec));
	rec.addr = l.addr;
	memcpy(rec.user, l.user, sizeof(rec.user) - 1);
	rec.format = l.format;
	rec.cpu = sched_getcpu();
	/* Blocking: a busy parent slows the reader down, it loses nothing. */
	if (send(READER_SOCK_FD, &rec, sizeof(rec), MSG_NOSIGNAL) < 0)
		exit(errno == EPIPE ? 0 : 1);
}

static int epoll_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int add_source(struct reader *r, struct log_source *s)
{
	int err;

	if (r->n_sources == MAX_SOURCES) {
		msg(LOG_ERR, "%s: more than %d log sources", log_source_name(s), MAX_SOURCES);
		log_source_free(s);
		return -E2BIG;
	}
	err = epoll_add(r->ep, log_source_fd(s), (uint64_t)(uintptr_t)s);
	if (err) {
		log_source_free(s);
		return err;
	}
	r->sources[r->n_sources++] = s;
	return 0;
}

static void drop_source(struct reader *r, size_t i)
{
	epoll_ctl(r->ep, EPOLL_CTL_DEL, log_source_fd(r->sources[i]), NULL);
	log_source_free(r->sources[i]);
	r->sources[i] = r->sources[--r->n_sources];
}

static bool has_log(const struct config *c, const char *path)
{
	for (size_t i = 0; c && i < c->n_logs; i++)
		if (strcmp(c->logs[i], path) == 0)
			return true;
	return false;
}

static bool has_source(const struct reader *r, const char *name)
{
	for (size_t i = 0; i < r->n_sources; i++)
		if (strcmp(log_source_name(r->sources[i]), name) == 0)
			return true;
	return false;
}

static int open_source(struct reader *r, const char *name, const struct config *c)
{
	struct log_source *s;
	int err, fd;

	if (strcmp(name, "journal") == 0) {
		err = log_source_journal(&s, c->journal_unit, NULL, on_line, r);
	} else if (strcmp(name, "stdin") == 0) {
		fd = dup(STDIN_FILENO);
		err = fd < 0 ? -errno : log_source_stream(&s, fd, "stdin", on_line, r);
	} else {
		err = log_source_file(&s, name, r->from_start, on_line, r);
	}
	return err ? err : add_source(r, s);
}

/*
 * Close the sources the config no longer names; open those it names that
 * are not open. Sources that stay keep their position in the file, so a
 * reload loses no line. One that cannot be opened (an unreadable directory)
 * does not stop the others; *missing counts them, for a later retry.
 */
static void apply_sources(struct reader *r, const struct config *c, unsigned *missing)
{
	*missing = 0;
	for (size_t i = r->n_sources; i-- > 0;) {
		const char *name = log_source_name(r->sources[i]);
		bool keep = has_log(c, name) || (strcmp(name, "journal") == 0 && c->journal) ||
			    (strcmp(name, "stdin") == 0 && c->read_stdin);

		if (!keep)
			drop_source(r, i);
	}
	for (size_t i = 0; i < c->n_logs; i++)
		if (!has_source(r, c->logs[i]) && open_source(r, c->logs[i], c) < 0)
			(*missing)++;
	if (c->journal && !has_source(r, "journal") && open_source(r, "journal", c) < 0)
		(*missing)++;
	/* stdin is opened once: at its EOF it is gone for good. */
	if (c->read_stdin && !r->stdin_opened) {
		r->stdin_opened = true;
		if (open_source(r, "stdin", c) < 0)
			(*missing)++;
	}
}

/* Sources that could not be opened are tried again, less and less often. */
static void arm_retry(struct reader *r, unsigned missing)
{
	struct itimerspec its = { .it_value = { .tv_sec = missing ? r->retry_s : 0 } };

	if (!missing)
		r->retry_s = RETRY_MIN_S;
	else if (r->retry_s < RETRY_MAX_S)
		r->retry_s *= 2;
	timerfd_settime(r->retry_fd, 0, &its, NULL);
}

/* Load (or reload) the configuration; on failure keep what runs. */
static int load(struct reader *r, bool first)
{
	struct login_parser *parser;
	struct config nc;
	unsigned missing;
	int err;

	config_init_defaults(&nc);
	err = config_load(r->config_path, &nc);
	if (err == -EACCES)
		msg(LOG_ERR, "log reader: it runs as uid %u, which must be able to read %s "
		    "(see reader_user)", (unsigned)getuid(), r->config_path);
	if (err < 0)
		return -EINVAL;
	if (build_parser(&nc, &parser)) {
		config_free(&nc);
		return -EINVAL;
	}
	apply_sources(r, &nc, &missing);
	arm_retry(r, missing);
	login_parser_free(r->parser);
	r->parser = parser;
	if (!first)
		config_free(&r->cfg);
	r->cfg = nc;
	msg_set_level(r->cfg.log_level);
	return 0;
}

/*
 * Who the reader becomes. Capabilities alone are not enough: a process of
 * uid 0 with none of them still owns root's files, the pins among them
 * (mode 0600 grants their owner access with no capability), and may signal
 * root's processes. So it takes reader_user's uid, gid and groups, plus adm
 * and systemd-journal where they exist: on Debian they read the logs and the
 * journal. Resolved in the parent (NSS), applied in the child.
 */
struct reader_id {
	const char *name;
	uid_t uid;
	gid_t gid;
	gid_t groups[READER_GROUPS_MAX];
	int n_groups;
};

static void add_group(struct reader_id *id, const char *group)
{
	struct group *g = getgrnam(group);

	if (!g || id->n_groups >= READER_GROUPS_MAX)
		return;
	for (int i = 0; i < id->n_groups; i++)
		if (id->groups[i] == g->gr_gid)
			return;
	id->groups[id->n_groups++] = g->gr_gid;
}

static int reader_id_resolve(const char *user, struct reader_id *id)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		int err = errno ? errno : ENOENT;

		msg(LOG_ERR, "reader_user %s: cannot look the user up: %s", user, strerror(err));
		return -err;
	}
	id->name = user;
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	id->n_groups = READER_GROUPS_MAX - 2;
	if (getgrouplist(user, pw->pw_gid, id->groups, &id->n_groups) < 0) {
		msg(LOG_ERR, "reader_user %s: in more than %d groups", user, READER_GROUPS_MAX - 2);
		return -E2BIG;
	}
	add_group(id, "adm");
	add_group(id, "systemd-journal");
	return 0;
}

/* Already that user (popgated run as it, or reader_user = root): stay. */
static int become(const struct reader_id *id)
{
	if (getuid() == id->uid && geteuid() == id->uid && getgid() == id->gid)
		return 0;
	if (setgroups((size_t)id->n_groups, id->groups) < 0 ||
	    setresgid(id->gid, id->gid, id->gid) < 0 || setresuid(id->uid, id->uid, id->uid) < 0) {
		int err = errno;

		msg(LOG_ERR, "log reader: cannot become %s (uid %u): %s%s", id->name,
		    (unsigned)id->uid, strerror(err),
		    err == EPERM ? " (popgated needs CAP_SETUID and CAP_SETGID for it)" : "");
		return -err;
	}
	return 0;
}

/* No capability, and none to be gained by an exec. */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

/* Keep nothing the privileged half has: no capability, no fd but ours.
 * After become(): a change of credentials clears the parent-death signal. */
static int shed_privileges(int sock)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() == 1)
		return -ESRCH;
	if (sock != READER_SOCK_FD && (dup2(sock, READER_SOCK_FD) < 0 || close(sock) < 0))
		return -errno;
	if (close_range(READER_SOCK_FD + 1, ~0u, 0) < 0)
		return -errno;
	return drop_capabilities();
}

/* One file as the reader would open it: false when it cannot. A log that
 * is missing is waited for; a missing configuration is not. */
static bool probe_file(const char *path, bool must_exist, const char *what)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	if (errno == ENOENT && !must_exist)
		return true;
	printf("%s: %s not readable by the log reader (uid %u): %s\n", path, what,
	       (unsigned)getuid(), strerror(errno));
	return false;
}

/* The child's exit status. */
enum { PROBE_OK, PROBE_LOG, PROBE_CONFIG, PROBE_USER };

int reader_check_access(const char *config_path, const struct config *c)
{
	struct reader_id id;
	int status, err = reader_id_resolve(c->reader_user, &id);
	pid_t child;

	if (err)
		return err;
	fflush(stdout);
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		int r = PROBE_OK;

		/* Not root (a syntax check by a user): nothing to learn here. */
		if (setgroups(0, NULL) < 0 && errno == EPERM && geteuid() != id.uid)
			_exit(PROBE_USER);
		if (become(&id) < 0 || drop_capabilities() < 0)
			_exit(PROBE_USER);
		for (size_t i = 0; i < c->n_logs; i++)
			if (!probe_file(c->logs[i], false, "log"))
				r = PROBE_LOG;
		if (!probe_file(config_path, true, "configuration"))
			r = PROBE_CONFIG;
		fflush(stdout);
		_exit(r);
	}
	if (waitpid(child, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status))
		return -EPERM;
	if (WEXITSTATUS(status) == PROBE_USER)
		return READER_ACCESS_UNCHECKED;
	if (WEXITSTATUS(status) == PROBE_CONFIG)
		return -EACCES;
	return WEXITSTATUS(status) == PROBE_LOG ? READER_ACCESS_LOG : READER_ACCESS_OK;
}

static void reader_main(const char *config_path, bool from_start, const struct reader_id *id,
			int sock)
{
	struct reader r = { .config_path = config_path, .from_start = from_start };
	struct login_record hello;
	struct epoll_event evs[16];
	sigset_t mask;
	int err;

	if (become(id) < 0)
		exit(1);
	err = shed_privileges(sock);
	if (err) {
		msg(LOG_ERR, "log reader: dropping privileges: %s", strerror(-err));
		exit(1);
	}
	/* INT goes to the whole process group on a terminal: the parent decides. */
	signal(SIGINT, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	r.ep = epoll_create1(EPOLL_CLOEXEC);
	r.retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	r.retry_s = RETRY_MIN_S;
	if (r.sig_fd < 0 || r.ep < 0 || r.retry_fd < 0 ||
	    epoll_add(r.ep, r.sig_fd, TAG_SIGNAL) < 0 || epoll_add(r.ep, r.retry_fd, TAG_RETRY) < 0 ||
	    epoll_add(r.ep, READER_SOCK_FD, TAG_PARENT) < 0 || load(&r, true) < 0)
		exit(1);
	/* Hello (an all-zero record): the sources are followed from here on. */
	memset(&hello, 0, sizeof(hello));
	if (send(READER_SOCK_FD, &hello, sizeof(hello), MSG_NOSIGNAL) < 0)
		exit(1);
	for (;;) {
		/* journald tells readers of new entries only when a timer of its
		 * own fires (hundreds of ms): look for them every JOURNAL_POLL_MS. */
		int n = epoll_wait(r.ep, evs, 16, has_source(&r, "journal") ? JOURNAL_POLL_MS : -1);

		for (size_t k = 0; n == 0 && k < r.n_sources; k++)
			if (strcmp(log_source_name(r.sources[k]), "journal") == 0)
				log_source_dispatch(r.sources[k]);

		for (int i = 0; i < n; i++) {
			struct log_source *s = (struct log_source *)(uintptr_t)evs[i].data.u64;
			struct signalfd_siginfo si;

			if (evs[i].data.u64 == TAG_RETRY) {
				uint64_t ticks;
				unsigned missing;

				if (read(r.retry_fd, &ticks, sizeof(ticks)) > 0) {
					apply_sources(&r, &r.cfg, &missing);
					arm_retry(&r, missing);
				}
				continue;
			}
			if (evs[i].data.u64 == TAG_PARENT) {
				/* The parent asks for a reload, or is gone (EOF). It
				 * cannot signal us: we are another user now. */
				char cmd;
				ssize_t got = recv(READER_SOCK_FD, &cmd, 1, MSG_DONTWAIT);

				if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
					exit(0);
				if (got == 1 && cmd == READER_CMD_RELOAD)
					load(&r, false);
				continue;
			}
			if (evs[i].data.u64 == TAG_SIGNAL) {
				while (read(r.sig_fd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGTERM)
						exit(0);
					load(&r, false);
				}
				continue;
			}
			for (size_t k = 0; k < r.n_sources; k++) {
				if (r.sources[k] != s || log_source_dispatch(s) == 0)
					continue;
				msg(LOG_WARNING, "%s: source closed", log_source_name(s));
				drop_source(&r, k);
				break;
			}
		}
	}
}

int reader_spawn(const char *config_path, bool from_start, const char *user, int *sock,
		 pid_t *pid)
{
	struct reader_id id;
	int sv[2];
	pid_t child;
	int err = reader_id_resolve(user, &id);

	if (err)
		return err;

	/* SEQPACKET: one record per message, and EOF when the reader is gone. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fflush(stderr);
	child = fork();
	if (child < 0) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (child == 0) {
		close(sv[0]);
		reader_main(config_path, from_start, &id, sv[1]);
		_exit(0);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		int err = -errno;

		close(sv[0]);
		return err;
	}
	*sock = sv[0];
	*pid = child;
	return 0;
}

int reader_reload(int sock)
{
	char cmd = READER_CMD_RELOAD;

	return send(sock, &cmd, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ? 0 : -errno;
}

int reader_recv(int sock, struct login_record *r, unsigned max, unsigned *got)
{
	struct mmsghdr mm[READER_RECV_MAX];
	struct iovec iov[READER_RECV_MAX];
	int n;

	*got = 0;
	if (max > READER_RECV_MAX)
		max = READER_RECV_MAX;
	for (unsigned i = 0; i < max; i++) {
		iov[i] = (struct iovec){ .iov_base = &r[i], .iov_len = sizeof(r[i]) };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	/* All that waits in one call: the records of a login or two cost no
	 * second call to learn that nothing more waits (the fd is polled
	 * level-triggered, so what stays queued is seen on the next turn). */
	n = recvmmsg(sock, mm, max, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (mm[i].msg_len == 0)
			return -EPIPE;
		if (mm[i].msg_len != sizeof(r[i]) || (mm[i].msg_hdr.msg_flags & MSG_TRUNC))
			return -EPROTO;
		/* The reader is less trusted than we are: hold it to its promises. */
		r[i].user[sizeof(r[i].user) - 1] = '\0';
		for (char *c = r[i].user; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		(*got)++;
	}
	return 0;
}
