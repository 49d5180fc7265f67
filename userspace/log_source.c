/* log_source.c - see log_source.h: one face for the three kinds of source. */
#include "log_source.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log_follow.h"
#include "log_journal.h"
#include "log_stream.h"
#include "msg.h"

enum kind { SRC_FILE, SRC_STREAM, SRC_JOURNAL };

struct log_source {
	enum kind kind;
	union {
		struct log_follow *follow;
		struct log_stream *stream;
		struct log_journal *journal;
	};
	int epfd;       /* what the daemon polls */
	int more;       /* eventfd, readable while a dispatch left work behind */
	bool more_set;
};

static int backend_fd(const struct log_source *s)
{
	switch (s->kind) {
	case SRC_FILE:
		return log_follow_fd(s->follow);
	case SRC_STREAM:
		return log_stream_fd(s->stream);
	case SRC_JOURNAL:
		return log_journal_fd(s->journal);
	}
	return -EINVAL;
}

static int backend_dispatch(struct log_source *s)
{
	switch (s->kind) {
	case SRC_FILE:
		return log_follow_dispatch(s->follow);
	case SRC_STREAM:
		return log_stream_dispatch(s->stream);
	case SRC_JOURNAL:
		return log_journal_dispatch(s->journal);
	}
	return -EINVAL;
}

const char *log_source_name(const struct log_source *s)
{
	switch (s->kind) {
	case SRC_FILE:
		return log_follow_name(s->follow);
	case SRC_STREAM:
		return log_stream_name(s->stream);
	case SRC_JOURNAL:
		return log_journal_name(s->journal);
	}
	return "?";
}

void log_source_free(struct log_source *s)
{
	if (!s)
		return;
	switch (s->kind) {
	case SRC_FILE:
		log_follow_free(s->follow);
		break;
	case SRC_STREAM:
		log_stream_free(s->stream);
		break;
	case SRC_JOURNAL:
		log_journal_free(s->journal);
		break;
	}
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->more >= 0)
		close(s->more);
	free(s);
}

static int set_more(struct log_source *s, bool on)
{
	uint64_t v = 1;
	ssize_t n;

	if (on == s->more_set)
		return 0;
	n = on ? write(s->more, &v, sizeof(v)) : read(s->more, &v, sizeof(v));
	if (n != sizeof(v)) {
		int err = n < 0 ? errno : EIO;

		msg(LOG_ERR, "%s: eventfd: %s", log_source_name(s), strerror(err));
		return -err;
	}
	s->more_set = on;
	return 0;
}

int log_source_dispatch(struct log_source *s)
{
	int r = backend_dispatch(s);
	int k = set_more(s, r > 0);

	if (r < 0)
		return r;
	return k;
}

int log_source_fd(const struct log_source *s) { return s->epfd; }

static struct log_source *source_new(enum kind kind)
{
	struct log_source *s = calloc(1, sizeof(*s));

	if (s) {
		s->kind = kind;
		s->epfd = s->more = -1;
	}
	return s;
}

/* Wire up a source whose backend was opened with result r. The first
 * dispatch is due at once: a file read from its start has lines already. */
static int source_finish(struct log_source **out, struct log_source *s, int r)
{
	struct epoll_event ev = { .events = EPOLLIN };
	const char *what;

	if (r < 0)
		goto fail;
	what = "epoll_create1";
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		goto sys_fail;
	what = "eventfd";
	s->more = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->more < 0)
		goto sys_fail;
	what = "epoll_ctl";
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, backend_fd(s), &ev) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->more, &ev) < 0)
		goto sys_fail;
	r = set_more(s, true);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
sys_fail:
	r = -errno;
	msg(LOG_ERR, "%s: %s: %s", log_source_name(s), what, strerror(-r));
fail:
	log_source_free(s);
	return r;
}

int log_source_file(struct log_source **out, const char *path, bool from_start,
		    log_line_fn fn, void *ctx)
{
	struct log_source *s = source_new(SRC_FILE);

	if (!s) {
		msg(LOG_ERR, "%s: out of memory", path);
		return -ENOMEM;
	}
	return source_finish(out, s, log_follow_open(&s->follow, path, from_start, fn, ctx));
}

int log_source_stream(struct log_source **out, int fd, const char *name,
		      log_line_fn fn, void *ctx)
{
	struct log_source *s = source_new(SRC_STREAM);

	if (!s) {
		msg(LOG_ERR, "%s: out of memory", name);
		close(fd);
		return -ENOMEM;
	}
	return source_finish(out, s, log_stream_open(&s->stream, fd, name, fn, ctx));
}

int log_source_journal(struct log_source **out, const char *unit, const char *directory,
		       log_line_fn fn, void *ctx)
{
	struct log_source *s = source_new(SRC_JOURNAL);

	if (!s) {
		msg(LOG_ERR, "journal: out of memory");
		return -ENOMEM;
	}
	return source_finish(out, s, log_journal_open(&s->journal, unit, directory, fn, ctx));
}
