/*
 * tap.h - the smallest TAP producer: every unit and BPF test binary prints
 * "ok N - name" / "not ok N - name" lines and a plan, which tests/run.sh
 * counts together with bats' TAP output into the suite's one summary line.
 *
 *   CHECK(cond, "fmt", ...)   one test point; prints the failing condition
 *   return tap_done();        prints the plan, exit status 1 if any failed
 */
#ifndef POPGATE_TAP_H
#define POPGATE_TAP_H
#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

static inline __attribute__((format(printf, 4, 5))) int
tap_check(int ok, const char *expr, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok) {
		printf("#   failed: %s (line %d)\n", expr, line);
		tap_failed++;
	}
	fflush(stdout);
	return ok;
}

#define CHECK(cond, ...) tap_check(!!(cond), #cond, __LINE__, __VA_ARGS__)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
