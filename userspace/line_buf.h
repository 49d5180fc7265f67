/*
 * line_buf.h - cutting one source's byte stream into whole lines.
 *
 * Bytes go in as read(2) returns them; the callback gets each line without
 * its '\n', not NUL-terminated, NUL bytes and other garbage passed through.
 * An unterminated tail is held until its newline arrives.
 *
 * Over-long lines (more than LINE_MAX_LEN bytes before the newline) are
 * dropped whole: nothing of them is delivered, and delivery resumes with the
 * line after the next newline. A truncated start is not passed on because it
 * is not what the writer logged: a crafted line could make its first 8 KiB
 * look like a login. Each drop is counted and reported with the source's
 * name, at most once a minute.
 */
#ifndef POPGATE_LINE_BUF_H
#define POPGATE_LINE_BUF_H
#include <stdbool.h>
#include <stddef.h>

#include "log_source.h"
#include "msg.h"

#define LINE_MAX_LEN 8192

struct line_buf {
	log_line_fn fn;
	void *ctx;
	const char *origin;     /* passed to fn, and names the source in messages */
	bool skipping;          /* inside an over-long line: drop up to its newline */
	size_t len;             /* bytes held in part */
	struct msg_ratelimit rl;
	char part[LINE_MAX_LEN];
};

/* origin must outlive lb. */
void line_buf_init(struct line_buf *lb, const char *origin, log_line_fn fn, void *ctx);
void line_buf_feed(struct line_buf *lb, const char *data, size_t len);
/* No more bytes will come (EOF, a rotated file abandoned): the held tail, if
 * any, is dropped and reported, never delivered: a line its writer did not
 * finish may be cut right after a crafted user name (see line_buf.c). */
void line_buf_finish(struct line_buf *lb);
/* The bytes held are void (the file was truncated): forget them. */
void line_buf_discard(struct line_buf *lb);
/* Start in the middle of a line (reading a file from its end): drop bytes up to
 * the next newline instead of delivering the end of a line as if whole. */
void line_buf_skip_to_newline(struct line_buf *lb);
/* A line that is whole by construction (a journal entry), len bytes long, under
 * the same cap: over LINE_MAX_LEN it is dropped and reported, and only then may
 * line hold fewer than len bytes. */
void line_buf_whole(struct line_buf *lb, const char *line, size_t len);
#endif
