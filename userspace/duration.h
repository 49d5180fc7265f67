/*
 * duration.h - authorization windows as operators write them.
 *
 * "90m", "15m", "1h30m", "5400s", "5400" (seconds), "2d", "1h 30m".
 * duration_parse returns 0, -EINVAL (not a duration, or zero) or -ERANGE
 * (longer than DURATION_MAX_S). duration_format prints the shortest form.
 */
#ifndef POPGATE_DURATION_H
#define POPGATE_DURATION_H
#include <stddef.h>
#include <stdint.h>

#define DURATION_MAX_S (366ull * 24 * 3600) /* a year: anything longer is a typo */

int duration_parse(const char *s, uint64_t *seconds);
void duration_format(uint64_t seconds, char *buf, size_t len);
#endif
