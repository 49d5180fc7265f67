/* Durations as operators write them (window, --for, sweep_interval). */
#include <errno.h>
#include <string.h>

#include "duration.h"
#include "tap.h"

static const struct {
	const char *in;
	int err;
	uint64_t s;
	const char *shown;
} cases[] = {
	{ "90m", 0, 5400, "1h30m" },
	{ "15m", 0, 900, "15m" },
	{ "1h30m", 0, 5400, "1h30m" },
	{ "1h 30m", 0, 5400, "1h30m" },
	{ "5400s", 0, 5400, "1h30m" },
	{ "5400", 0, 5400, "1h30m" },
	{ "3s", 0, 3, "3s" },
	{ "2d", 0, 172800, "2d" },
	{ "1d1h1m1s", 0, 90061, "1d1h1m1s" },
	{ "366d", 0, 366 * 86400ull, "366d" },
	{ "367d", -ERANGE, 0, NULL },
	{ "99999999999999999999999s", -ERANGE, 0, NULL },
	{ "0", -EINVAL, 0, NULL },
	{ "0m", -EINVAL, 0, NULL },
	{ "", -EINVAL, 0, NULL },
	{ "m", -EINVAL, 0, NULL },
	{ "90x", -EINVAL, 0, NULL },
	{ "30m1h", -EINVAL, 0, NULL },
	{ "1h1h", -EINVAL, 0, NULL },
	{ "10 20", -EINVAL, 0, NULL },
	{ "-5m", -EINVAL, 0, NULL },
	{ "1.5h", -EINVAL, 0, NULL },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t s = 0;
		char buf[32] = "";
		int err = duration_parse(cases[i].in, &s);

		if (!err)
			duration_format(s, buf, sizeof(buf));
		CHECK(err == cases[i].err && (err || (s == cases[i].s && !strcmp(buf, cases[i].shown))),
		      "'%s' -> %d %llus %s (got %d %llus %s)", cases[i].in, cases[i].err,
		      (unsigned long long)cases[i].s, cases[i].shown ? cases[i].shown : "-", err,
		      (unsigned long long)s, buf);
	}
	return tap_done();
}
