/*
 * daemon_util.h - what the daemon benchmarks (bench_parse, bench_latency)
 * share: reading gen_maillog's outputs, the clock, percentiles, and the
 * "metric NAME VALUE" lines daemon_bench.sh gathers into its table and
 * daemon.json. Failures here end the program: a benchmark with half its
 * input is no benchmark.
 */
#ifndef POPGATE_DAEMON_UTIL_H
#define POPGATE_DAEMON_UTIL_H
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* gen_maillog's EXPECT file: one address per login, in line order. */
struct expect {
	struct in6_addr *addr;
	uint64_t *lineno;
	size_t n;
};
void expect_load(struct expect *e, const char *path);
void expect_free(struct expect *e);

/* A text file split into lines (without their newlines), kept in memory. */
struct lines {
	char *data;
	const char **line;
	size_t *len;
	size_t n;
	size_t bytes;
};
void lines_load(struct lines *l, const char *path);
void lines_free(struct lines *l);

uint64_t now_ns(void); /* CLOCK_MONOTONIC */
void sleep_until_ns(uint64_t t);

/* v sorted ascending; q in [0, 1]: nearest-rank percentile. */
double percentile(const double *v, size_t n, double q);
void sort_doubles(double *v, size_t n);

/* How busy all CPUs were since cpu_busy_start(), in percent, from
 * /proc/stat (every process counts, ours too). */
struct cpu_busy {
	unsigned long long busy, total;
};
void cpu_busy_start(struct cpu_busy *c);
double cpu_busy_pct(const struct cpu_busy *c);

/* CPU time a (single-threaded) process has run, from /proc/PID/schedstat. */
uint64_t process_runtime_ns(int pid);
/* The children of pid (popgated's log reader), at most max; their count. */
size_t process_children(int pid, int *out, size_t max);

/* One "metric PREFIX.NAME VALUE" line on stdout, flushed. */
void metric(const char *prefix, const char *name, double value);

void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#endif
