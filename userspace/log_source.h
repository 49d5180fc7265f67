/*
 * log_source.h - where popgated reads the POP3/IMAP servers' logs from.
 *
 * A source is a log file followed with inotify (log_follow.h), a pipe, FIFO
 * or stdin (log_stream.h), or the systemd journal (log_journal.h). All three
 * deliver whole lines to one callback and are driven the same way: put
 * log_source_fd() into the daemon's epoll set for EPOLLIN, level-triggered
 * (the default), and call log_source_dispatch() when it is readable.
 *
 * Lines: see line_buf.h. At most LINE_MAX_LEN (8 KiB) bytes; a longer line
 * is dropped whole (reported with the source's name, rate-limited) and the
 * line after it is delivered.
 *
 * Dispatch does a bounded amount of work (about 1 MiB, or 1024 journal
 * entries) so one busy source cannot starve the others; when it leaves work
 * behind, the source's fd stays readable and the next epoll round goes on.
 * The fd is an epoll fd of the source's own: it gathers the backend's fd
 * (inotify, pipe, journal) with an eventfd that says "more to do".
 *
 * The constructors and dispatch return 0 or a negative errno, and report
 * their errors themselves (msg.h) with the path or name of the source.
 */
#ifndef POPGATE_LOG_SOURCE_H
#define POPGATE_LOG_SOURCE_H
#include <stdbool.h>
#include <stddef.h>

/* Called once per whole line, without the newline; line is not NUL-terminated
 * and may contain NUL bytes. origin: the path / "journal" / stream name,
 * valid as long as the source. fn must not free the source it is called from. */
typedef void (*log_line_fn)(void *ctx, const char *origin, const char *line, size_t len);

struct log_source;

/* Follow the file at path: from its end, or from its start when from_start.
 * The file may not exist yet. Rotation, truncation: see log_follow.h. */
int log_source_file(struct log_source **out, const char *path, bool from_start,
		    log_line_fn fn, void *ctx);
/* Read a pipe, FIFO or stdin. The source owns fd from the call on (closes
 * it, even when this fails) and makes it non-blocking. EOF: log_stream.h. */
int log_source_stream(struct log_source **out, int fd, const char *name,
		      log_line_fn fn, void *ctx);
/* New entries of the journal, of one unit (NULL: all). directory NULL: the
 * local system journal; else the journal files in that directory. */
int log_source_journal(struct log_source **out, const char *unit, const char *directory,
		       log_line_fn fn, void *ctx);

int log_source_fd(const struct log_source *s);
/* Consume what is ready, call fn per whole line. 0, or a negative errno when
 * the source is finished (-EPIPE: a stream's EOF) or broken: then the daemon
 * drops it from its epoll set and frees it. */
int log_source_dispatch(struct log_source *s);
const char *log_source_name(const struct log_source *s);
void log_source_free(struct log_source *s); /* NULL is fine */
#endif
