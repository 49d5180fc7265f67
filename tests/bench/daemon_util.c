/* daemon_util.c - see daemon_util.h. */
#include "daemon_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		fatal("%s: %s", path, strerror(errno));
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		fatal("%s: reading: %s", path, strerror(errno));
	fclose(f);
	buf[n] = '\0';
	*size = (size_t)n;
	return buf;
}

void lines_load(struct lines *l, const char *path)
{
	size_t cap = 0;
	char *p, *end;

	memset(l, 0, sizeof(*l));
	l->data = slurp(path, &l->bytes);
	end = l->data + l->bytes;
	for (p = l->data; p < end;) { /* each turn consumes one line */
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			nl = end;
		if (l->n == cap) {
			cap = cap ? 2 * cap : 4096;
			l->line = realloc(l->line, cap * sizeof(*l->line));
			l->len = realloc(l->len, cap * sizeof(*l->len));
			if (!l->line || !l->len)
				fatal("%s: out of memory", path);
		}
		l->line[l->n] = p;
		l->len[l->n++] = (size_t)(nl - p);
		p = nl + 1;
	}
}

void lines_free(struct lines *l)
{
	free(l->data);
	free(l->line);
	free(l->len);
	memset(l, 0, sizeof(*l));
}

void expect_load(struct expect *e, const char *path)
{
	struct lines l;

	lines_load(&l, path);
	e->n = l.n;
	e->addr = calloc(l.n + 1, sizeof(*e->addr));
	e->lineno = calloc(l.n + 1, sizeof(*e->lineno));
	if (!e->addr || !e->lineno)
		fatal("%s: out of memory", path);
	for (size_t i = 0; i < l.n; i++) {
		char text[INET6_ADDRSTRLEN + 32], addr[INET6_ADDRSTRLEN];
		unsigned long long no;

		if (l.len[i] >= sizeof(text))
			fatal("%s:%zu: line too long", path, i + 1);
		memcpy(text, l.line[i], l.len[i]);
		text[l.len[i]] = '\0';
		if (sscanf(text, "%llu\t%45s", &no, addr) != 2 ||
		    inet_pton(AF_INET6, addr, &e->addr[i]) != 1)
			fatal("%s:%zu: not LINENO<TAB>ADDRESS", path, i + 1);
		e->lineno[i] = no;
	}
	lines_free(&l);
}

void expect_free(struct expect *e)
{
	free(e->addr);
	free(e->lineno);
	memset(e, 0, sizeof(*e));
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void sort_doubles(double *v, size_t n) { qsort(v, n, sizeof(*v), cmp_double); }

double percentile(const double *v, size_t n, double q)
{
	size_t rank;

	if (!n)
		return 0;
	rank = (size_t)(q * (double)n + 0.999999); /* nearest rank, 1-based */
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

void metric(const char *prefix, const char *name, double value)
{
	printf("metric %s.%s %.10g\n", prefix, name, value);
	fflush(stdout);
}

static void cpu_read(struct cpu_busy *c)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "re");

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			 &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) < 5)
		fatal("/proc/stat: cannot read");
	fclose(f);
	/* user nice system idle iowait irq softirq steal (guest ones are in user) */
	c->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	c->busy = c->total - v[3] - v[4];
}

void cpu_busy_start(struct cpu_busy *c) { cpu_read(c); }

double cpu_busy_pct(const struct cpu_busy *c)
{
	struct cpu_busy now;

	cpu_read(&now);
	if (now.total <= c->total)
		return 0;
	return 100.0 * (double)(now.busy - c->busy) / (double)(now.total - c->total);
}

uint64_t process_runtime_ns(int pid)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%llu", &ns) != 1)
		fatal("%s: cannot read", path);
	fclose(f);
	return ns;
}

size_t process_children(int pid, int *out, size_t max)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	f = fopen(path, "re");
	if (!f)
		fatal("%s: %s", path, strerror(errno));
	while (n < max && fscanf(f, "%d", &out[n]) == 1)
		n++;
	fclose(f);
	return n;
}
