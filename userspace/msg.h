/*
 * msg.h - diagnostics for popgated and popgatectl.
 *
 * msg(LOG_ERR, "...") writes one line to stderr. Under systemd (the
 * JOURNAL_STREAM variable names our stderr) each line gets a "<N>" syslog
 * priority prefix so the journal keeps the level. Messages above the level
 * set with msg_set_level() are dropped. msg_ratelimit() lets a message that
 * could repeat per packet or per line (a full map, a garbage line) through at
 * most once per interval, and reports how many were suppressed.
 */
#ifndef POPGATE_MSG_H
#define POPGATE_MSG_H
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

void msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void msg_set_level(int maxprio);
void msg_set_ident(const char *ident); /* "popgatectl: " prefix when not under systemd */

struct msg_ratelimit {
	uint64_t interval_ms;
	uint64_t last_ms;
	uint64_t suppressed;
};
/* true: print now; *suppressed (may be NULL) gets the count held back since. */
bool msg_ratelimit(struct msg_ratelimit *rl, uint64_t *suppressed);
#endif
