/* line_buf.c - see line_buf.h. */
#include "line_buf.h"

#include <stdio.h>
#include <string.h>

#define OVERLONG_REPORT_MS 60000

void line_buf_init(struct line_buf *lb, const char *origin, log_line_fn fn, void *ctx)
{
	lb->fn = fn;
	lb->ctx = ctx;
	lb->origin = origin;
	lb->skipping = false;
	lb->len = 0;
	lb->rl = (struct msg_ratelimit){ .interval_ms = OVERLONG_REPORT_MS };
}

static void dropped(struct line_buf *lb, const char *what)
{
	uint64_t held_back;
	char more[64] = "";

	if (!msg_ratelimit(&lb->rl, &held_back))
		return;
	if (held_back)
		snprintf(more, sizeof(more), " (and %llu more since the last report)",
			 (unsigned long long)held_back);
	msg(LOG_WARNING, "%s: dropped %s%s", lb->origin, what, more);
}

static void overlong(struct line_buf *lb)
{
	char what[64];

	snprintf(what, sizeof(what), "a line longer than %d bytes", LINE_MAX_LEN);
	dropped(lb, what);
}

void line_buf_feed(struct line_buf *lb, const char *data, size_t len)
{
	/* Each turn consumes at least one byte. */
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;

		if (lb->skipping) {
			lb->skipping = !nl;
		} else if (lb->len + take > LINE_MAX_LEN) {
			overlong(lb);
			lb->len = 0;
			lb->skipping = !nl;
		} else if (!nl) {
			memcpy(lb->part + lb->len, data, take);
			lb->len += take;
		} else if (lb->len == 0) {
			/* The common case: a whole line inside what was read, no copy. */
			lb->fn(lb->ctx, lb->origin, data, take);
		} else {
			memcpy(lb->part + lb->len, data, take);
			lb->fn(lb->ctx, lb->origin, lb->part, lb->len + take);
			lb->len = 0;
		}
		take += nl != NULL;
		data += take;
		len -= take;
	}
}

void line_buf_finish(struct line_buf *lb)
{
	/* Its writer never finished it: a line cut right after a crafted user
	 * name reads like a login from an address of the user's choosing. */
	if (lb->len > 0 && !lb->skipping)
		dropped(lb, "an unterminated last line");
	line_buf_discard(lb);
}

void line_buf_discard(struct line_buf *lb)
{
	lb->len = 0;
	lb->skipping = false;
}

void line_buf_skip_to_newline(struct line_buf *lb)
{
	lb->len = 0;
	lb->skipping = true;
}

void line_buf_whole(struct line_buf *lb, const char *line, size_t len)
{
	if (len > LINE_MAX_LEN)
		overlong(lb);
	else
		lb->fn(lb->ctx, lb->origin, line, len);
}
