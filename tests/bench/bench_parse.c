/*
 * bench_parse.c - login throughput of popgated's line path.
 *
 *   bench_parse [-r REPS] LOG EXPECT
 *
 * LOG and EXPECT come from gen_maillog. Two measurements, REPS times each
 * (best and median reported), the file in the page cache:
 *  source  LOG read through log_source_file(from_start = true): the daemon's
 *          own file follower (inotify, 64 KiB preads, 1 MiB per dispatch,
 *          line_buf splitting), each line handed to login_parse() with every
 *          format on (LOGIN_ALL), as popgated's on_line() does. The map
 *          write that follows a login is not in it (bench_latency fill
 *          measures the daemon's rate with it).
 *  parse   login_parse() alone over the lines already split in memory.
 * Checks, on every repetition: the logins found are EXPECT's, same count,
 * same addresses in the same order.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_util.h"
#include "log_source.h"
#include "login_parse.h"

#define MAX_REPS 50
#define DISPATCH_BYTES (1u << 20) /* log_source.h's per-dispatch budget */

struct run {
	const struct login_parser *parser;
	const struct expect *want;
	uint64_t lines, logins, mismatches;
};

/* A found login is checked at once against the one EXPECT has at that rank. */
static void found(struct run *r, const struct login *l)
{
	if (r->logins >= r->want->n ||
	    memcmp(&l->addr, &r->want->addr[r->logins], sizeof(l->addr)) != 0)
		r->mismatches++;
	r->logins++;
}

static void on_line(void *ctx, const char *origin, const char *line, size_t len)
{
	struct run *r = ctx;
	struct login l;

	(void)origin;
	r->lines++;
	if (login_parse(r->parser, line, len, &l) == 1)
		found(r, &l);
}

/* Until the source has nothing left: its fd stays readable while a dispatch
 * leaves work behind, and the file does not grow. Only the reading is timed:
 * the daemon opens a source once, and closing an inotify fd waits for an
 * SRCU grace period (milliseconds, nothing to do with lines). */
static uint64_t run_source(const char *path, size_t bytes, struct run *r)
{
	size_t rounds = bytes / DISPATCH_BYTES + 16;
	struct log_source *s;
	uint64_t t0, t1;

	if (log_source_file(&s, path, true, on_line, r) < 0)
		fatal("%s: cannot open as a log source", path);
	t0 = now_ns();
	for (size_t i = 0; i < rounds; i++) {
		struct pollfd p = { .fd = log_source_fd(s), .events = POLLIN };

		if (poll(&p, 1, 0) <= 0)
			break;
		if (log_source_dispatch(s) < 0)
			fatal("%s: dispatch failed", path);
	}
	t1 = now_ns();
	log_source_free(s);
	return t1 - t0;
}

static uint64_t run_parse(const struct lines *l, struct run *r)
{
	uint64_t t0 = now_ns();
	struct login out;

	for (size_t i = 0; i < l->n; i++) {
		r->lines++;
		if (login_parse(r->parser, l->line[i], l->len[i], &out) == 1)
			found(r, &out);
	}
	return now_ns() - t0;
}

static void check(const char *what, const struct run *r, const struct lines *l,
		  const struct expect *e)
{
	if (r->lines != l->n || r->logins != e->n || r->mismatches)
		fatal("%s: %llu lines (file: %zu), %llu logins (expected %zu), %llu wrong addresses",
		      what, (unsigned long long)r->lines, l->n, (unsigned long long)r->logins, e->n,
		      (unsigned long long)r->mismatches);
}

/* Times REPS runs of one kind; reports best and median lines/s. */
static void measure(const char *name, int reps, const char *path, const struct lines *l,
		    const struct expect *e, const struct login_parser *p)
{
	double secs[MAX_REPS];
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "parse.%s", name);
	for (int i = 0; i < reps; i++) {
		struct run r = { .parser = p, .want = e };
		uint64_t ns = path ? run_source(path, l->bytes, &r) : run_parse(l, &r);

		secs[i] = (double)ns / 1e9;
		check(name, &r, l, e);
	}
	sort_doubles(secs, (size_t)reps);
	metric(prefix, "best_lines_per_s", (double)l->n / secs[0]);
	metric(prefix, "median_lines_per_s", (double)l->n / percentile(secs, (size_t)reps, 0.5));
	metric(prefix, "best_mib_per_s", (double)l->bytes / secs[0] / (1 << 20));
	metric(prefix, "best_ns_per_line", secs[0] * 1e9 / (double)l->n);
}

int main(int argc, char **argv)
{
	struct login_parser *p;
	struct expect e;
	struct lines l;
	int c, reps = 5;

	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c != 'r')
			goto usage;
		reps = atoi(optarg);
	}
	if (argc - optind != 2 || reps < 1 || reps > MAX_REPS)
		goto usage;
	/* Also puts LOG in the page cache: the source run reads from memory. */
	lines_load(&l, argv[optind]);
	expect_load(&e, argv[optind + 1]);
	if (login_parser_new(&p, LOGIN_ALL) < 0)
		fatal("login_parser_new failed");
	metric("parse", "lines", (double)l.n);
	metric("parse", "bytes", (double)l.bytes);
	metric("parse", "logins_expected", (double)e.n);
	measure("source", reps, argv[optind], &l, &e, p);
	measure("parse_only", reps, NULL, &l, &e, p);
	/* check() stopped us on any difference: the count found is the count expected. */
	metric("parse", "logins_found", (double)e.n);
	metric("parse", "address_mismatches", 0);
	login_parser_free(p);
	expect_free(&e);
	lines_free(&l);
	return 0;
usage:
	fprintf(stderr, "usage: bench_parse [-r REPS] LOG EXPECT\n");
	return 2;
}
