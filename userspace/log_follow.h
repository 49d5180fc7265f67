/*
 * log_follow.h - a log file followed with inotify, like `tail -F` but never
 * polling: an append wakes the daemon at once.
 *
 * One inotify fd per file: a watch on the directory (the name coming and
 * going) and one on each file held open (writes, its own rename, deletion,
 * link count). Lines are whole lines as line_buf.h cuts them.
 *
 * Start: at the end of the file (a line being written there is skipped, not
 * delivered as a fragment), or at its start with from_start. A file that
 * does not exist yet is read from its start when it appears: all of it is new.
 *
 * Rotation, by rename + create or by delete + create: the file we hold is
 * kept open after the name moves on, and read up to its end. When a new file
 * appears under the name, both are read, the old one first, until the new one
 * has data: only then do we know that the writer has reopened the log, so
 * lines it wrote to the old file in between are not lost. Then the old file
 * is read to its end a last time (an unterminated last line is dropped and
 * reported, see line_buf.h) and closed. With one writer, as syslog daemons and Dovecot's log
 * process are, lines arrive in the order written. A renamed or deleted file
 * with no successor is followed on, until one appears.
 *
 * Copytruncate (the file is now shorter than what we have read): read again
 * from its start, dropping any partial line held. A truncation followed by
 * more writes than we had read, all before we look, cannot be told from
 * appends; with inotify we look within microseconds.
 *
 * Directory missing: reported, and its nearest existing ancestor is watched
 * until it is created. Directory that cannot be watched (no read permission,
 * not a directory): reported; a file already open is still followed, and the
 * directory is tried again whenever that file is renamed or deleted.
 * Opening the source fails only when nothing at all can be watched.
 */
#ifndef POPGATE_LOG_FOLLOW_H
#define POPGATE_LOG_FOLLOW_H
#include <stdbool.h>

#include "log_source.h"

struct log_follow;

int log_follow_open(struct log_follow **out, const char *path, bool from_start,
		    log_line_fn fn, void *ctx);
int log_follow_fd(const struct log_follow *f); /* the inotify fd */
/* 0: nothing more to read now; 1: work left (call again); negative errno:
 * inotify or reading failed, the source is broken. */
int log_follow_dispatch(struct log_follow *f);
const char *log_follow_name(const struct log_follow *f);
void log_follow_free(struct log_follow *f);
#endif
