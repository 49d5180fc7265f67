/*
 * test_log_follow.c - following log files with inotify (log_follow.h), through
 * the log_source interface, as popgated drives it: poll the fd, dispatch.
 * Everything happens in a mkdtemp directory, removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
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

#define WAIT_MS 2000   /* for lines that must come: generous, a loaded CI machine */
#define QUIET_MS 100   /* for lines that must not come */

static char dir[64];
static char path[128];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What the callback received. */
static struct {
	size_t n, cap;
	char **line;
	size_t *len;
	uint64_t last_ns;
	const char *origin;
} got;

static void on_line(void *ctx, const char *origin, const char *line, size_t len)
{
	(void)ctx;
	got.last_ns = now_ns();
	got.origin = origin;
	if (got.n == got.cap) {
		got.cap = got.cap ? 2 * got.cap : 64;
		got.line = realloc(got.line, got.cap * sizeof(*got.line));
		got.len = realloc(got.len, got.cap * sizeof(*got.len));
		if (!got.line || !got.len)
			abort();
	}
	got.line[got.n] = malloc(len + 1);
	if (!got.line[got.n])
		abort();
	memcpy(got.line[got.n], line, len);
	got.line[got.n][len] = '\0';
	got.len[got.n++] = len;
}

static void got_clear(void)
{
	for (size_t i = 0; i < got.n; i++)
		free(got.line[i]);
	got.n = 0;
}

static unsigned dispatches;

/* Poll and dispatch until want lines are in or timeout_ms passed. */
static int drive(struct log_source *s, size_t want, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000u;

	while (got.n < want) { /* bounded by the deadline */
		struct pollfd p = { .fd = log_source_fd(s), .events = POLLIN };
		uint64_t t = now_ns();
		int r;

		if (t >= end)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((end - t + 999999) / 1000000));
		if (r > 0) {
			dispatches++;
			r = log_source_dispatch(s);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Exactly these lines, in order, and nothing more within QUIET_MS. */
static int got_exactly(struct log_source *s, const char *const *want, size_t n)
{
	drive(s, n, WAIT_MS);
	drive(s, n + 1, QUIET_MS);
	if (got.n != n) {
		printf("#   got %zu lines, want %zu\n", got.n, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(got.line[i], want[i])) {
			printf("#   line %zu: got \"%s\", want \"%s\"\n", i, got.line[i], want[i]);
			return 0;
		}
	return 1;
}
#define GOT(s, ...) got_exactly(s, (const char *const[]){ __VA_ARGS__ }, \
				sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))

static int quiet(struct log_source *s)
{
	drive(s, got.n + 1, QUIET_MS);
	return got.n == 0;
}

/* Idle: the fd must not stay readable, or the daemon would spin. */
static int idle(struct log_source *s)
{
	struct pollfd p = { .fd = log_source_fd(s), .events = POLLIN };
	unsigned before;

	drive(s, SIZE_MAX, QUIET_MS);
	before = dispatches;
	drive(s, SIZE_MAX, QUIET_MS);
	return dispatches == before && poll(&p, 1, 0) == 0;
}

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		abort();
}

static int wopen(const char *p)
{
	int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		abort();
	return fd;
}

static void write_file(const char *p, const char *s)
{
	int fd = wopen(p);

	put(fd, s);
	close(fd);
}

static struct log_source *source(const char *p, bool from_start)
{
	struct log_source *s = NULL;

	got_clear();
	if (log_source_file(&s, p, from_start, on_line, NULL) < 0)
		abort();
	return s;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static void fresh_file(void)
{
	unlink(path);
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	unlink(path);
}

static void test_append(void)
{
	struct log_source *s;

	fresh_file();
	write_file(path, "old 1\nold 2\n");
	s = source(path, false);
	CHECK(quiet(s), "from the end: existing lines not delivered");
	write_file(path, "new 1\nnew 2\n");
	CHECK(GOT(s, "new 1", "new 2"), "appended lines delivered");
	CHECK(!strcmp(got.origin, path), "origin is the path");
	CHECK(idle(s), "idle: fd not readable, no dispatch without an event");
	log_source_free(s);

	s = source(path, true);
	CHECK(GOT(s, "old 1", "old 2", "new 1", "new 2"), "from_start: existing lines delivered at once");
	log_source_free(s);

	write_file(path, "whole\nhalf a li");
	s = source(path, false);
	write_file(path, "ne\nnext\n");
	CHECK(GOT(s, "next"), "from the end inside a line: its end is not delivered as a line");
	log_source_free(s);
}

static void test_burst(void)
{
	struct log_source *s;
	int fd, ok = 1;
	char line[32];

	fresh_file();
	fd = wopen(path);
	s = source(path, false);
	for (int i = 0; i < 10000; i++) {
		snprintf(line, sizeof(line), "burst %05d\n", i);
		put(fd, line);
	}
	drive(s, 10000, 10 * WAIT_MS);
	CHECK(got.n == 10000, "burst of 10k single-line writes: %zu lines", got.n);
	for (size_t i = 0; i < got.n && ok; i++) {
		snprintf(line, sizeof(line), "burst %05zu", i);
		ok = !strcmp(got.line[i], line);
	}
	CHECK(ok, "burst: order kept");
	close(fd);
	log_source_free(s);
}

static void test_rotation(void)
{
	struct log_source *s;
	char rotated[160];
	int w, w2;

	fresh_file();
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	w = wopen(path);
	s = source(path, false);
	put(w, "before\n");
	CHECK(GOT(s, "before"), "rotation: line before");
	rename(path, rotated);
	put(w, "after rename\n");
	CHECK(GOT(s, "before", "after rename"), "rotation: line written to the renamed file, no new one yet");
	w2 = wopen(path);
	put(w, "after create\n");
	CHECK(GOT(s, "before", "after rename", "after create"),
	      "rotation: line written to the old file after the new one exists");
	put(w2, "new file\n");
	CHECK(GOT(s, "before", "after rename", "after create", "new file"), "rotation: new file's line");
	close(w);
	put(w2, "new file 2\n");
	CHECK(GOT(s, "before", "after rename", "after create", "new file", "new file 2"),
	      "rotation: and on");
	close(w2);
	CHECK(idle(s), "rotation: idle afterwards");
	log_source_free(s);

	/* The same with no dispatch in between: all of it waits in the queue. */
	unlink(rotated);
	fresh_file();
	w = wopen(path);
	s = source(path, false);
	put(w, "a\n");
	rename(path, rotated);
	put(w, "b\n");
	w2 = wopen(path);
	put(w, "c\n");
	put(w2, "d\n");
	CHECK(GOT(s, "a", "b", "c", "d"), "rotation at once: old file read to its end before the new one");
	close(w);
	close(w2);
	log_source_free(s);
	unlink(rotated);
}

static void test_copytruncate(void)
{
	struct log_source *s;
	int w;

	fresh_file();
	w = wopen(path);
	s = source(path, false);
	put(w, "long line one\nlong line two\n");
	CHECK(GOT(s, "long line one", "long line two"), "copytruncate: lines before");
	if (truncate(path, 0) < 0)
		abort();
	put(w, "short\n");
	CHECK(GOT(s, "long line one", "long line two", "short"),
	      "copytruncate: read again from the start");
	close(w);
	log_source_free(s);
}

static void test_delete_recreate(void)
{
	struct log_source *s;
	int w;

	fresh_file();
	w = wopen(path);
	s = source(path, false);
	put(w, "first\n");
	CHECK(GOT(s, "first"), "delete: line before");
	unlink(path);
	put(w, "to the deleted file\n");
	CHECK(GOT(s, "first", "to the deleted file"), "delete: deleted file still read while written");
	close(w);
	write_file(path, "recreated\n");
	CHECK(GOT(s, "first", "to the deleted file", "recreated"), "re-created file read from its start");
	log_source_free(s);
}

static void test_missing(void)
{
	struct log_source *s;
	char deep[128], sub[96];

	fresh_file();
	s = source(path, false);
	CHECK(quiet(s), "missing file: nothing yet");
	write_file(path, "m1\nm2\n");
	CHECK(GOT(s, "m1", "m2"), "missing file created: read from its start");
	log_source_free(s);

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(deep, sizeof(deep), "%s/sub/deeper/mail.log", dir);
	s = source(deep, false);
	CHECK(s && quiet(s), "missing directory: source opened, nothing yet");
	mkdir(sub, 0755);
	CHECK(quiet(s), "missing directory: parent created, nothing yet");
	snprintf(sub, sizeof(sub), "%s/sub/deeper", dir);
	mkdir(sub, 0755);
	write_file(deep, "deep\n");
	CHECK(GOT(s, "deep"), "missing directory created, then the file: read");
	log_source_free(s);
	unlink(deep);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	rmdir(sub);

	/* mkdir -p and the write before any dispatch: the watch on the new
	 * directory comes after the file is in it. */
	s = source(deep, false);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/sub/deeper", dir);
	mkdir(sub, 0755);
	write_file(deep, "quick\n");
	CHECK(GOT(s, "quick"), "directory and file created at once: read");
	log_source_free(s);
}

static void test_lines(void)
{
	struct log_source *s;
	const size_t big = 1 << 20;
	char *line = malloc(big + 1);
	int w, ok = 1;

	fresh_file();
	w = wopen(path);
	s = source(path, false);
	put(w, "abc");
	CHECK(quiet(s), "partial line: not delivered");
	put(w, "def\n");
	CHECK(GOT(s, "abcdef"), "partial line completed later");

	got_clear();
	memset(line, 'x', big);
	line[big] = '\n';
	if (write(w, line, big + 1) != (ssize_t)big + 1)
		abort();
	put(w, "normal\n");
	CHECK(GOT(s, "normal"), "1 MiB line dropped, the line after it delivered");

	got_clear();
	if (write(w, "a\0b\0c\n", 6) != 6)
		abort();
	drive(s, 1, WAIT_MS);
	CHECK(got.n == 1 && got.len[0] == 5 && !memcmp(got.line[0], "a\0b\0c", 5), "NUL bytes passed through");

	got_clear();
	for (int i = 0; i < 200; i++) {
		char l[16];

		snprintf(l, sizeof(l), "short %03d\n", i);
		for (const char *p = l; *p; p++) {
			if (write(w, p, 1) != 1)
				abort();
			drive(s, SIZE_MAX, 0);
		}
	}
	drive(s, 200, WAIT_MS);
	for (int i = 0; i < 200 && ok; i++) {
		char l[16];

		snprintf(l, sizeof(l), "short %03d", i);
		ok = (size_t)i < got.n && !strcmp(got.line[i], l);
	}
	CHECK(got.n == 200 && ok, "200 lines in 2000 one-byte writes, dispatched in between");
	close(w);
	log_source_free(s);
	free(line);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_latency(void)
{
	enum { N = 1000 };
	static uint64_t lat[N];
	struct log_source *s;
	char line[64];
	int w, n = 0;

	fresh_file();
	w = wopen(path);
	s = source(path, false);
	for (int i = 0; i < N; i++) {
		uint64_t t0;

		snprintf(line, sizeof(line), "Nov 25 12:00:00 mail dovecot: pop3-login: Login %d\n", i);
		t0 = now_ns();
		put(w, line);
		if (drive(s, got.n + 1, WAIT_MS) < 0)
			break;
		lat[n++] = got.last_ns - t0;
	}
	CHECK(n == N, "latency: every one of %d lines arrived", N);
	qsort(lat, n, sizeof(lat[0]), cmp_u64);
	if (n == N)
		printf("# write(2) -> callback, %d lines: p50 %.1f us, p99 %.1f us, max %.1f us\n",
		       N, lat[N / 2] / 1e3, lat[N * 99 / 100] / 1e3, lat[N - 1] / 1e3);
	close(w);
	log_source_free(s);
}

/* Root reads any directory: the check runs as nobody, in a child. A
 * directory with x but not r: its files can be opened, it cannot be watched. */
static void test_unreadable_dir(void)
{
	char locked[96], p[128], missing[128];
	int status = -1;
	pid_t pid;

	snprintf(locked, sizeof(locked), "%s/locked", dir);
	snprintf(p, sizeof(p), "%s/mail.log", locked);
	snprintf(missing, sizeof(missing), "%s/missing.log", locked);
	mkdir(locked, 0700);
	write_file(p, "old\n");
	if (chmod(dir, 0711) < 0 || chmod(locked, 0711) < 0 || chmod(p, 0666) < 0)
		abort();
	fflush(stdout); /* or the child prints it again */
	pid = fork();
	if (pid == 0) {
		struct log_source *s = NULL, *s2 = NULL;
		int ok = setgid(65534) == 0 && setuid(65534) == 0 &&
			 log_source_file(&s, p, false, on_line, NULL) == 0;

		if (ok) {
			got_clear();
			write_file(p, "new\n");
			ok = GOT(s, "new");
		}
		ok = ok && log_source_file(&s2, missing, false, on_line, NULL) == -EACCES && !s2;
		fflush(stdout);
		_exit(ok ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "directory that cannot be watched: reported, its file still followed, "
	      "a missing file there refused");
	chmod(dir, 0700);
}

static void test_errors(void)
{
	struct log_source *s = NULL;
	char p[128];

	snprintf(p, sizeof(p), "%s/", dir);
	CHECK(log_source_file(&s, p, false, on_line, NULL) == -EISDIR && !s, "a path ending in / refused");
	snprintf(p, sizeof(p), "%s/afile", dir);
	write_file(p, "");
	snprintf(p, sizeof(p), "%s/afile/mail.log", dir);
	CHECK(log_source_file(&s, p, false, on_line, NULL) == -ENOTDIR && !s,
	      "directory that is a file: refused, nothing to watch");
}

int main(void)
{
	strcpy(dir, "/tmp/popgate-follow.XXXXXX");
	if (!mkdtemp(dir))
		return perror("mkdtemp"), 1;
	test_append();
	test_burst();
	test_rotation();
	test_copytruncate();
	test_delete_recreate();
	test_missing();
	test_lines();
	test_latency();
	test_unreadable_dir();
	test_errors();
	got_clear();
	free(got.line);
	free(got.len);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
