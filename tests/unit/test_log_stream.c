/*
 * test_log_stream.c - logs read from a pipe or a FIFO (log_stream.h), through
 * the log_source interface: poll the fd, dispatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log_source.h"
#include "tap.h"

#define WAIT_MS 2000
#define QUIET_MS 100
#define BURST 10000

static struct {
	size_t n;
	char last[64];
	size_t last_len;
	int in_order;       /* burst lines "line N" came as 0, 1, 2... */
	const char *origin;
} got;

static void on_line(void *ctx, const char *origin, const char *line, size_t len)
{
	char want[32];

	(void)ctx;
	got.origin = origin;
	snprintf(want, sizeof(want), "line %zu", got.n);
	got.in_order &= len == strlen(want) && !memcmp(line, want, len);
	got.last_len = len < sizeof(got.last) ? len : sizeof(got.last);
	memcpy(got.last, line, got.last_len);
	got.n++;
}

static void reset(void)
{
	memset(&got, 0, sizeof(got));
	got.in_order = 1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll and dispatch until want lines are in, the source ends, or timeout. */
static int drive(struct log_source *s, size_t want, int timeout_ms)
{
	long end = now_ms() + timeout_ms;

	while (got.n < want) { /* bounded by the deadline */
		struct pollfd p = { .fd = log_source_fd(s), .events = POLLIN };
		long left = end - now_ms();
		int r;

		if (left < 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) > 0 && (r = log_source_dispatch(s)) < 0)
			return r;
	}
	return 0;
}

static int last_is(const char *s) { return got.last_len == strlen(s) && !memcmp(got.last, s, got.last_len); }

static void put(int fd, const void *s, size_t len)
{
	if (write(fd, s, len) != (ssize_t)len)
		abort();
}
#define PUT(fd, lit) put(fd, lit, sizeof(lit) - 1)

static struct log_source *pipe_source(int *wfd)
{
	struct log_source *s;
	int p[2];

	reset();
	if (pipe2(p, O_CLOEXEC) < 0 || log_source_stream(&s, p[0], "test-pipe", on_line, NULL) < 0)
		abort();
	*wfd = p[1];
	return s;
}

static void test_pipe(void)
{
	struct log_source *s;
	struct pollfd p;
	char big[65536];
	int w;

	s = pipe_source(&w);
	PUT(w, "one\ntwo\npar");
	CHECK(drive(s, 2, WAIT_MS) == 0 && got.n == 2 && last_is("two"), "pipe: whole lines delivered");
	CHECK(!strcmp(got.origin, "test-pipe"), "origin is the stream's name");
	CHECK(drive(s, 3, QUIET_MS) == -ETIMEDOUT && got.n == 2, "pipe: partial line held");
	PUT(w, "tial\n");
	CHECK(drive(s, 3, WAIT_MS) == 0 && last_is("partial"), "pipe: partial line completed later");
	p = (struct pollfd){ .fd = log_source_fd(s), .events = POLLIN };
	CHECK(poll(&p, 1, 0) == 0, "pipe: idle, fd not readable");

	PUT(w, "a\0b\n");
	CHECK(drive(s, 4, WAIT_MS) == 0 && got.last_len == 3 && !memcmp(got.last, "a\0b", 3),
	      "pipe: NUL bytes passed through");

	/* 1 MiB line, written while dispatching, since the pipe holds 64 KiB. */
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 16; i++) {
		put(w, big, sizeof(big));
		drive(s, SIZE_MAX, 5);
	}
	PUT(w, "\nafter\n");
	CHECK(drive(s, 5, WAIT_MS) == 0 && got.n == 5 && last_is("after"),
	      "pipe: 1 MiB line dropped, the next line delivered");

	PUT(w, "last, no newline");
	close(w);
	CHECK(drive(s, SIZE_MAX, WAIT_MS) == -EPIPE, "EOF: dispatch returns -EPIPE");
	CHECK(got.n == 5 && last_is("after"), "EOF: unterminated last line dropped, not delivered");
	CHECK(log_source_dispatch(s) == -EPIPE && got.n == 5, "after EOF: -EPIPE again, nothing more");
	log_source_free(s);

	s = pipe_source(&w);
	PUT(w, "x\n");
	close(w);
	CHECK(drive(s, SIZE_MAX, WAIT_MS) == -EPIPE && got.n == 1, "EOF after a newline: no empty line");
	log_source_free(s);
}

static void test_burst(void)
{
	struct log_source *s;
	pid_t pid;
	int w, status;

	s = pipe_source(&w);
	pid = fork();
	if (pid == 0) {
		char line[32];

		for (int i = 0; i < BURST; i++) {
			int n = snprintf(line, sizeof(line), "line %d\n", i);

			put(w, line, n);
		}
		_exit(0);
	}
	close(w);
	CHECK(drive(s, SIZE_MAX, 10 * WAIT_MS) == -EPIPE, "burst from another process: ends with EOF");
	CHECK(got.n == BURST && got.in_order, "burst: %zu of %d lines, in order", got.n, BURST);
	if (waitpid(pid, &status, WNOHANG) == 0)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	log_source_free(s);
}

static void test_fifo(void)
{
	char dir[] = "/tmp/popgate-stream.XXXXXX", path[64];
	struct log_source *s;
	int fd, w;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/fifo", dir);
	reset();
	/* O_RDWR, as log_stream.h advises: no EOF between writers. */
	if (mkfifo(path, 0600) < 0 || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0 ||
	    log_source_stream(&s, fd, path, on_line, NULL) < 0)
		abort();
	for (int i = 0; i < 3; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %d\n", i);

		w = open(path, O_WRONLY | O_CLOEXEC);
		put(w, line, n);
		close(w);
		drive(s, i + 1, WAIT_MS);
	}
	CHECK(got.n == 3 && got.in_order, "FIFO opened O_RDWR: three writers one after the other");
	CHECK(drive(s, 4, QUIET_MS) == -ETIMEDOUT, "FIFO: no EOF when the writers are gone");
	log_source_free(s);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	struct log_source *s = NULL;

	test_pipe();
	test_burst();
	test_fifo();
	CHECK(log_source_stream(&s, 1000, "bad-fd", on_line, NULL) == -EBADF && !s, "a bad fd refused");
	return tap_done();
}
