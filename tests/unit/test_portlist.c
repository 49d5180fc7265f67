/* Gated port lists: "ports set" and the config's ports key. */
#include <errno.h>
#include <string.h>

#include "portlist.h"
#include "tap.h"

static const struct {
	const char *in;
	int err;
	unsigned n;
	uint16_t first, last;
} cases[] = {
	{ "25,465,2525", 0, 3, 25, 2525 },
	{ "25 465 2525", 0, 3, 25, 2525 },
	{ "25, 465,\t2525", 0, 3, 25, 2525 },
	{ "65535", 0, 1, 65535, 65535 },
	{ "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", 0, 16, 1, 16 },
	{ "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", -E2BIG, 0, 0, 0 },
	{ "", -EINVAL, 0, 0, 0 },
	{ ",", -EINVAL, 0, 0, 0 },
	{ "0", -EINVAL, 0, 0, 0 },
	{ "65536", -EINVAL, 0, 0, 0 },
	{ "99999999999", -EINVAL, 0, 0, 0 },
	{ "25,25", -EINVAL, 0, 0, 0 },
	{ "25;465", -EINVAL, 0, 0, 0 },
	{ "smtp", -EINVAL, 0, 0, 0 },
	{ "-25", -EINVAL, 0, 0, 0 },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t p[GATE_MAX_PORTS];
		unsigned n = 0;
		int err = portlist_parse(cases[i].in, p, &n, NULL);

		CHECK(err == cases[i].err && (err || (n == cases[i].n && p[0] == cases[i].first &&
						      p[n - 1] == cases[i].last)),
		      "'%s' -> %d, %u ports (got %d, %u)", cases[i].in, cases[i].err, cases[i].n, err, n);
	}
	return tap_done();
}
