/* portlist.c - see portlist.h. */
#include "portlist.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>

int portlist_parse(const char *s, uint16_t ports[GATE_MAX_PORTS], unsigned *n, const char **bad)
{
	unsigned count = 0;

	for (;;) {
		unsigned long v = 0;
		const char *start;

		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		start = s;
		if (bad)
			*bad = start;
		for (; isdigit((unsigned char)*s) && v <= 65535; s++)
			v = v * 10 + (unsigned long)(*s - '0');
		if (s == start || v == 0 || v > 65535 ||
		    (*s && *s != ',' && *s != ' ' && *s != '\t'))
			return -EINVAL;
		for (unsigned i = 0; i < count; i++)
			if (ports[i] == v)
				return -EINVAL;
		if (count == GATE_MAX_PORTS)
			return -E2BIG;
		ports[count++] = (uint16_t)v;
	}
	if (!count)
		return -EINVAL;
	*n = count;
	return 0;
}
