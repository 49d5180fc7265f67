/* msg.c - see msg.h. */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int max_prio = LOG_INFO;
static const char *ident = "";

void msg_set_level(int maxprio) { max_prio = maxprio; }
void msg_set_ident(const char *id) { ident = id ? id : ""; }

static bool under_journal(void)
{
	static int cached = -1;

	if (cached < 0)
		cached = getenv("JOURNAL_STREAM") != NULL;
	return cached;
}

void msg(int prio, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (prio > max_prio)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per message so lines from several sources never interleave. */
	if (under_journal())
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "%s%s\n", ident, line);
}

bool msg_ratelimit(struct msg_ratelimit *rl, uint64_t *suppressed)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (rl->last_ms && now - rl->last_ms < rl->interval_ms) {
		rl->suppressed++;
		return false;
	}
	if (suppressed)
		*suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->last_ms = now;
	return true;
}
