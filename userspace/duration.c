/* duration.c - see duration.h. */
#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

static uint64_t unit_seconds(char c)
{
	switch (c) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	default: return 0;
	}
}

int duration_parse(const char *s, uint64_t *seconds)
{
	uint64_t total = 0, unit, last_unit = UINT64_MAX;
	int terms = 0;

	while (*s) {
		uint64_t n = 0;
		int digits = 0;

		while (*s == ' ')
			s++;
		if (!*s)
			break;
		for (; isdigit((unsigned char)*s); s++, digits++) {
			if (n > DURATION_MAX_S)
				return -ERANGE;
			n = n * 10 + (uint64_t)(*s - '0');
		}
		if (!digits)
			return -EINVAL;
		if (!*s || *s == ' ') {
			/* A bare number is seconds, and only on its own. */
			if (terms)
				return -EINVAL;
			unit = 1;
		} else {
			unit = unit_seconds(*s++);
			/* Units must shrink: "30m1h" or "1h1h" is a typo. */
			if (!unit || unit >= last_unit)
				return -EINVAL;
		}
		last_unit = unit;
		if (n > DURATION_MAX_S / unit)
			return -ERANGE;
		total += n * unit;
		if (total > DURATION_MAX_S)
			return -ERANGE;
		terms++;
	}
	if (!terms || total == 0)
		return -EINVAL;
	*seconds = total;
	return 0;
}

void duration_format(uint64_t s, char *buf, size_t len)
{
	static const struct { char c; uint64_t n; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	size_t off = 0;

	if (s == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && off < len; i++) {
		if (s >= units[i].n) {
			off += (size_t)snprintf(buf + off, len - off, "%llu%c",
						(unsigned long long)(s / units[i].n), units[i].c);
			s %= units[i].n;
		}
	}
}
