/*
 * log_stream.h - a log read from a pipe, a FIFO or stdin.
 *
 * The stream owns its fd from the call on, even when opening fails: it makes
 * it non-blocking (on stdin that flag is shared with whoever else holds the
 * same open file) and closes it at free.
 *
 * EOF: an unterminated last line is dropped and reported (line_buf.h: a cut
 * line may be a forged one), then dispatch returns -EPIPE, and again on every
 * later call. A FIFO whose writers may come and go (a syslog daemon being
 * restarted) should be opened O_RDWR by the caller: then it never reaches
 * EOF, and a reader that outlives its writers keeps waiting.
 */
#ifndef POPGATE_LOG_STREAM_H
#define POPGATE_LOG_STREAM_H
#include "log_source.h"

struct log_stream;

int log_stream_open(struct log_stream **out, int fd, const char *name, log_line_fn fn, void *ctx);
int log_stream_fd(const struct log_stream *st);
/* 0: nothing more to read now; 1: work left (call again); -EPIPE at EOF;
 * another negative errno when reading failed. */
int log_stream_dispatch(struct log_stream *st);
const char *log_stream_name(const struct log_stream *st);
void log_stream_free(struct log_stream *st);
#endif
