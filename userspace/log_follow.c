/* log_follow.c - see log_follow.h. */
#include "log_follow.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "line_buf.h"
#include "msg.h"

#define READ_SIZE 65536
#define BYTES_PER_DISPATCH (1u << 20) /* see "bounded amount of work" in log_source.h */
#define EVENT_READS_PER_DISPATCH 16
/* The largest inotify event: a read that left room for it emptied the queue
 * (the kernel hands out events while the next one fits), so no second read
 * is spent to hear EAGAIN. Events queued later keep the fd readable. */
#define EVENT_MAX_SIZE (sizeof(struct inotify_event) + NAME_MAX + 1)
#define WATCH_ROUNDS 16

/* IN_ATTRIB on the directory: a chmod may make an unreadable file readable. */
#define DIR_MASK (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | \
		  IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define ANCESTOR_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* IN_ATTRIB: unlinking a file we hold open changes its link count; the
 * IN_DELETE_SELF would come only once we close it. */
#define FILE_MASK (IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB)

struct tail { /* one open file being read */
	int fd;
	int wd;
	off_t off;
	dev_t dev;
	ino_t ino;
	struct line_buf lb;
};

struct log_follow {
	char *path;
	char *dir;
	const char *base;     /* inside path */
	char *up;             /* scratch for walking up from dir */
	log_line_fn fn;
	void *ctx;
	int ino;              /* inotify fd */
	int dir_wd;           /* on dir, or while it is missing on an ancestor */
	bool dir_is_ancestor;
	bool check_path;      /* the name may stand for another file now */
	int dir_err;          /* last problem reported, so each is reported once */
	int path_err;
	struct tail cur;      /* the file under the name, as far as we know */
	struct tail old;      /* the one before it, until the writer has moved on */
	char buf[READ_SIZE];
};

static void tail_init(struct tail *t) { t->fd = t->wd = -1; }

static void tail_close(struct log_follow *f, struct tail *t)
{
	/* The watch may be gone already (IN_IGNORED): EINVAL then, harmless. */
	if (t->wd >= 0)
		inotify_rm_watch(f->ino, t->wd);
	if (t->fd >= 0)
		close(t->fd);
	tail_init(t);
}

static void tail_retire(struct log_follow *f, struct tail *t)
{
	line_buf_finish(&t->lb);
	tail_close(f, t);
}

static int tail_start(struct log_follow *f, struct tail *t, int fd, const struct stat *st, off_t off)
{
	char proc[64];

	t->fd = fd;
	t->off = off;
	t->dev = st->st_dev;
	t->ino = st->st_ino;
	line_buf_init(&t->lb, f->path, f->fn, f->ctx);
	/* Through the fd, not the name: the name may already stand for another file. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	t->wd = inotify_add_watch(f->ino, proc, FILE_MASK);
	if (t->wd < 0) {
		int err = errno;

		msg(LOG_ERR, "%s: inotify_add_watch: %s", f->path, strerror(err));
		tail_close(f, t);
		return -err;
	}
	return 0;
}

static void report_path(struct log_follow *f, int err, const char *what)
{
	if (err == f->path_err)
		return;
	f->path_err = err;
	if (err)
		msg(LOG_ERR, "%s: %s", f->path, what);
}

/* The file now under the name, open, or a negative errno. Not there
 * (ENOENT, ENOTDIR) is no error of the file's: the directory watch reports
 * about the directory. */
static int open_path(struct log_follow *f, struct stat *st)
{
	int fd = open(f->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		int err = errno;

		if (err == EACCES) {
			char what[96];

			/* Whose access it is: popgated's reader is not root. */
			snprintf(what, sizeof(what), "%s (to uid %u gid %u and its groups)",
				 strerror(err), (unsigned)geteuid(), (unsigned)getegid());
			report_path(f, err, what);
		} else if (err != ENOENT && err != ENOTDIR) {
			report_path(f, err, strerror(err));
		}
		return -err;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		/* A FIFO is read as a stream source, not followed. */
		report_path(f, EINVAL, "not a regular file");
		close(fd);
		return -EINVAL;
	}
	report_path(f, 0, NULL);
	return fd;
}

/* "a/b" -> "a" -> "."; "/a" -> "/". false at the top. */
static bool parent(char *p)
{
	char *slash = strrchr(p, '/');

	if (!strcmp(p, "/") || !strcmp(p, "."))
		return false;
	if (!slash)
		strcpy(p, ".");
	else if (slash == p)
		p[1] = '\0';
	else
		*slash = '\0';
	return true;
}

static void report_dir(struct log_follow *f, int err)
{
	if (err == f->dir_err)
		return;
	if (!err)
		msg(LOG_INFO, "%s: directory %s is there now", f->path, f->dir);
	else if (err == ENOENT)
		msg(LOG_WARNING, "%s: directory %s does not exist; waiting for it", f->path, f->dir);
	else
		msg(LOG_ERR, "%s: cannot watch directory %s: %s; a new file there will not be noticed",
		    f->path, f->dir, strerror(err));
	f->dir_err = err;
}

/* Watch the directory or, while it is missing, the deepest existing ancestor,
 * where it will appear. */
static void watch_dir(struct log_follow *f)
{
	for (int round = 0; round < WATCH_ROUNDS; round++) {
		bool ancestor = false;
		int wd, err = 0;

		strcpy(f->up, f->dir);
		do { /* each step shortens up */
			wd = inotify_add_watch(f->ino, f->up, ancestor ? ANCESTOR_MASK : DIR_MASK);
			if (wd >= 0 || errno != ENOENT)
				break;
			err = ENOENT;
			ancestor = true;
		} while (parent(f->up));
		if (wd < 0 && !ancestor)
			err = errno;
		report_dir(f, err);
		if (wd == f->dir_wd)
			return;
		if (f->dir_wd >= 0)
			inotify_rm_watch(f->ino, f->dir_wd);
		f->dir_wd = wd;
		f->dir_is_ancestor = ancestor;
		/* Look again from the top: a directory below the ancestor may have
		 * been created before its watch was in place. */
		if (wd < 0 || !ancestor)
			return;
	}
}

/* Switch to the file now under the name, if it is another one. 1 when
 * there is a new file to read. */
static int reconcile(struct log_follow *f)
{
	struct stat st;
	int fd, r;

	f->check_path = false;
	if (f->dir_wd < 0)
		watch_dir(f);
	if (f->cur.fd >= 0 && stat(f->path, &st) == 0 &&
	    st.st_dev == f->cur.dev && st.st_ino == f->cur.ino)
		return 0;
	fd = open_path(f, &st);
	if (fd < 0)
		return 0;
	if (f->cur.fd >= 0 && st.st_dev == f->cur.dev && st.st_ino == f->cur.ino) {
		close(fd);
		return 0;
	}
	if (f->cur.fd >= 0) {
		/* A second replacement before the writer used the first: the
		 * old one was read to its end in this dispatch already. */
		if (f->old.fd >= 0)
			tail_retire(f, &f->old);
		msg(LOG_INFO, "%s: rotated or re-created, reading the new file", f->path);
		f->old = f->cur;
	}
	r = tail_start(f, &f->cur, fd, &st, 0);
	return r < 0 ? r : 1;
}

/* t was truncated under our offset (a pread there found nothing): read it
 * again from its start. 1 when it was, 0 when it was not. */
static int check_truncated(struct log_follow *f, struct tail *t)
{
	struct stat st;

	if (fstat(t->fd, &st) < 0) {
		int err = errno;

		msg(LOG_ERR, "%s: fstat: %s", f->path, strerror(err));
		return -err;
	}
	if (st.st_size >= t->off)
		return 0;
	msg(LOG_NOTICE, "%s: truncated, reading from its start", f->path);
	line_buf_discard(&t->lb);
	t->off = 0;
	return 1;
}

/* Read t from where we were to its end, within *budget. 1 when the budget
 * ran out first. A read shorter than asked is the end as it is now (later
 * appends come with a new IN_MODIFY), so the usual login costs one pread,
 * and only a read that finds nothing asks whether the file shrank. */
static int read_tail(struct log_follow *f, struct tail *t, size_t *budget)
{
	bool checked = false;

	for (;;) {
		size_t want = sizeof(f->buf);
		ssize_t n;
		int r;

		if (*budget == 0)
			return 1;
		if (want > *budget)
			want = *budget;
		n = pread(t->fd, f->buf, want, t->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			msg(LOG_ERR, "%s: read: %s", f->path, strerror(err));
			return -err;
		}
		if (n == 0) {
			if (checked)
				return 0;
			r = check_truncated(f, t);
			if (r <= 0)
				return r;
			checked = true;
			continue;
		}
		line_buf_feed(&t->lb, f->buf, (size_t)n);
		t->off += n;
		*budget -= n;
		if ((size_t)n < want)
			return 0;
	}
}

static bool cur_has_data(const struct log_follow *f)
{
	struct stat st;

	return f->cur.fd >= 0 && (f->cur.off > 0 || (fstat(f->cur.fd, &st) == 0 && st.st_size > 0));
}

static void handle_event(struct log_follow *f, const struct inotify_event *ev, bool *rewatch)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		/* Events were lost: look at everything again. */
		f->check_path = true;
		*rewatch = true;
	} else if (ev->wd == f->dir_wd) {
		if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
			if (ev->mask & IN_IGNORED)
				f->dir_wd = -1;
			*rewatch = true;
		} else if (f->dir_is_ancestor) {
			*rewatch = true;
		} else if (ev->len && !strcmp(ev->name, f->base)) {
			f->check_path = true;
		} else if (!ev->len && (ev->mask & IN_ATTRIB)) {
			/* The directory itself changed mode: a file it hid
			 * (chmod 000, then back) may be reachable now. */
			f->check_path = true;
		}
	} else if (ev->wd == f->cur.wd || ev->wd == f->old.wd) {
		struct tail *t = ev->wd == f->cur.wd ? &f->cur : &f->old;

		if (ev->mask & IN_IGNORED)
			t->wd = -1;
		if (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB))
			f->check_path = true;
	}
}

static int drain_events(struct log_follow *f)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool rewatch = false;

	/* More events than this stay queued and keep the fd readable. */
	for (int i = 0; i < EVENT_READS_PER_DISPATCH; i++) {
		ssize_t n = read(f->ino, buf, sizeof(buf));
		const struct inotify_event *ev;
		bool drained = n >= 0 && (size_t)n <= sizeof(buf) - EVENT_MAX_SIZE;

		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			msg(LOG_ERR, "%s: reading inotify events: %s", f->path, strerror(err));
			return -err;
		}
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			handle_event(f, ev, &rewatch);
		}
		if (drained)
			break;
	}
	if (rewatch) {
		watch_dir(f);
		f->check_path = true;
	}
	return 0;
}

int log_follow_dispatch(struct log_follow *f)
{
	size_t budget = BYTES_PER_DISPATCH;
	int r;

	r = drain_events(f);
	if (r < 0)
		return r;
	if (f->old.fd >= 0) {
		/* Looked at before reading the old file: if the writer had
		 * moved to the new one by then, all it wrote to the old one is
		 * there to read now. */
		bool moved = cur_has_data(f);

		r = read_tail(f, &f->old, &budget);
		if (r)
			return r;
		if (moved)
			tail_retire(f, &f->old);
	}
	if (f->cur.fd >= 0) {
		r = read_tail(f, &f->cur, &budget);
		if (r)
			return r;
	}
	return f->check_path ? reconcile(f) : 0;
}

/* A line being written at the end: its start is not ours to deliver. */
static void skip_partial_line(struct tail *t)
{
	char last;

	if (t->off > 0 && pread(t->fd, &last, 1, t->off - 1) == 1 && last != '\n')
		line_buf_skip_to_newline(&t->lb);
}

static int split_path(struct log_follow *f, const char *path)
{
	const char *slash;

	f->path = strdup(path);
	if (!f->path)
		return -ENOMEM;
	slash = strrchr(f->path, '/');
	f->base = slash ? slash + 1 : f->path;
	if (slash == f->path)
		f->dir = strdup("/");
	else if (slash)
		f->dir = strndup(f->path, slash - f->path);
	else
		f->dir = strdup(".");
	if (!f->dir)
		return -ENOMEM;
	/* Room for any ancestor of dir, and for ".". */
	f->up = malloc(strlen(f->dir) + 2);
	return f->up ? 0 : -ENOMEM;
}

static int start(struct log_follow *f, const char *path, bool from_start)
{
	struct stat st;
	int fd, r;

	r = split_path(f, path);
	if (r < 0) {
		msg(LOG_ERR, "%s: out of memory", path);
		return r;
	}
	if (!*f->base) {
		msg(LOG_ERR, "%s: names a directory, not a log file", path);
		return -EISDIR;
	}
	f->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->ino < 0) {
		r = -errno;
		msg(LOG_ERR, "%s: inotify_init1: %s", path, strerror(-r));
		return r;
	}
	/* Watch before opening, so that a file created in between is noticed. */
	watch_dir(f);
	fd = open_path(f, &st);
	if (fd >= 0) {
		r = tail_start(f, &f->cur, fd, &st, from_start ? 0 : st.st_size);
		if (r < 0)
			return r;
		skip_partial_line(&f->cur);
	} else if (f->dir_wd < 0) {
		return f->dir_err ? -f->dir_err : fd;
	} else if (fd == -ENOENT) {
		msg(LOG_INFO, "%s: does not exist yet; waiting for it", path);
	}
	return 0;
}

int log_follow_open(struct log_follow **out, const char *path, bool from_start,
		    log_line_fn fn, void *ctx)
{
	struct log_follow *f = calloc(1, sizeof(*f));
	int r;

	if (!f) {
		msg(LOG_ERR, "%s: out of memory", path);
		return -ENOMEM;
	}
	f->fn = fn;
	f->ctx = ctx;
	f->ino = f->dir_wd = -1;
	tail_init(&f->cur);
	tail_init(&f->old);
	r = start(f, path, from_start);
	if (r < 0) {
		log_follow_free(f);
		return r;
	}
	*out = f;
	return 0;
}

int log_follow_fd(const struct log_follow *f) { return f->ino; }
const char *log_follow_name(const struct log_follow *f) { return f->path; }

void log_follow_free(struct log_follow *f)
{
	if (!f)
		return;
	tail_close(f, &f->old);
	tail_close(f, &f->cur);
	if (f->ino >= 0)
		close(f->ino);
	free(f->path);
	free(f->dir);
	free(f->up);
	free(f);
}
