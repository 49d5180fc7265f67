/* log_stream.c - see log_stream.h. */
#include "log_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line_buf.h"
#include "msg.h"

#define READ_SIZE 65536
#define READS_PER_DISPATCH 16 /* 1 MiB: see "bounded amount of work" in log_source.h */

struct log_stream {
	int fd;
	bool eof;
	char *name;
	struct line_buf lb;
	char buf[READ_SIZE];
};

int log_stream_open(struct log_stream **out, int fd, const char *name, log_line_fn fn, void *ctx)
{
	struct log_stream *st;
	int fl;

	st = calloc(1, sizeof(*st));
	if (!st || !(st->name = strdup(name))) {
		msg(LOG_ERR, "%s: out of memory", name);
		free(st);
		close(fd);
		return -ENOMEM;
	}
	st->fd = fd;
	line_buf_init(&st->lb, st->name, fn, ctx);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int err = errno;

		msg(LOG_ERR, "%s: cannot make fd %d non-blocking: %s", name, fd, strerror(err));
		log_stream_free(st);
		return -err;
	}
	*out = st;
	return 0;
}

int log_stream_fd(const struct log_stream *st) { return st->fd; }
const char *log_stream_name(const struct log_stream *st) { return st->name; }

int log_stream_dispatch(struct log_stream *st)
{
	for (int i = 0; i < READS_PER_DISPATCH && !st->eof; i++) {
		ssize_t n = read(st->fd, st->buf, sizeof(st->buf));

		if (n > 0) {
			line_buf_feed(&st->lb, st->buf, (size_t)n);
		} else if (n == 0) {
			line_buf_finish(&st->lb);
			st->eof = true;
		} else if (errno == EAGAIN) {
			return 0;
		} else if (errno != EINTR) {
			int err = errno;

			msg(LOG_ERR, "%s: read: %s", st->name, strerror(err));
			return -err;
		}
	}
	return st->eof ? -EPIPE : 1;
}

void log_stream_free(struct log_stream *st)
{
	if (!st)
		return;
	close(st->fd);
	free(st->name);
	free(st);
}
