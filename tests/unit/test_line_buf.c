/* test_line_buf.c - cutting a byte stream into whole lines (line_buf.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line_buf.h"
#include "tap.h"

#define MAX_GOT 16

static struct {
	size_t n;
	size_t len[MAX_GOT];
	char line[MAX_GOT][LINE_MAX_LEN];
	const char *origin;
} got;

static void on_line(void *ctx, const char *origin, const char *line, size_t len)
{
	(void)ctx;
	got.origin = origin;
	if (got.n < MAX_GOT && len <= LINE_MAX_LEN) {
		memcpy(got.line[got.n], line, len);
		got.len[got.n] = len;
	}
	got.n++;
}

static void reset(struct line_buf *lb)
{
	got.n = 0;
	line_buf_init(lb, "test-origin", on_line, NULL);
}

static int is(size_t i, const char *s, size_t len)
{
	return i < got.n && got.len[i] == len && !memcmp(got.line[i], s, len);
}
#define IS(i, lit) is(i, lit, sizeof(lit) - 1)

static void feed(struct line_buf *lb, const char *s) { line_buf_feed(lb, s, strlen(s)); }

int main(void)
{
	static struct line_buf lb;
	static char big[3 * LINE_MAX_LEN];

	reset(&lb);
	feed(&lb, "one\ntwo\n\nthree\n");
	CHECK(got.n == 4 && IS(0, "one") && IS(1, "two") && IS(2, "") && IS(3, "three"),
	      "several lines in one read, an empty one kept");
	CHECK(!strcmp(got.origin, "test-origin"), "origin passed through");

	reset(&lb);
	feed(&lb, "par");
	CHECK(got.n == 0, "partial line held");
	feed(&lb, "tial");
	feed(&lb, "\nnext");
	CHECK(got.n == 1 && IS(0, "partial"), "partial line completed by a later read");
	feed(&lb, "\n");
	CHECK(got.n == 2 && IS(1, "next"), "tail after a newline carried over");

	reset(&lb);
	for (const char *p = "byte\nby\nbyte\n"; *p; p++)
		line_buf_feed(&lb, p, 1);
	CHECK(got.n == 3 && IS(0, "byte") && IS(1, "by") && IS(2, "byte"), "one byte per read");

	reset(&lb);
	line_buf_feed(&lb, "a\0b\0\nc\n", 7);
	CHECK(got.n == 2 && IS(0, "a\0b\0") && IS(1, "c"), "NUL bytes passed through");

	reset(&lb);
	memset(big, 'x', sizeof(big));
	big[LINE_MAX_LEN] = '\n';
	line_buf_feed(&lb, big, LINE_MAX_LEN + 1);
	CHECK(got.n == 1 && got.len[0] == LINE_MAX_LEN, "a line of exactly LINE_MAX_LEN delivered");

	reset(&lb);
	line_buf_feed(&lb, big, LINE_MAX_LEN - 1);
	line_buf_feed(&lb, "x\n", 2);
	CHECK(got.n == 1 && got.len[0] == LINE_MAX_LEN, "... also when it comes in two reads");

	reset(&lb);
	big[LINE_MAX_LEN] = 'x';
	big[LINE_MAX_LEN + 1] = '\n';
	line_buf_feed(&lb, big, LINE_MAX_LEN + 2);
	feed(&lb, "after\n");
	CHECK(got.n == 1 && IS(0, "after"), "LINE_MAX_LEN + 1 bytes dropped, next line delivered");

	reset(&lb);
	memset(big, 'y', sizeof(big));
	for (int i = 0; i < 100; i++)
		line_buf_feed(&lb, big, sizeof(big));
	feed(&lb, "tail of the long one\nafter\n");
	CHECK(got.n == 1 && IS(0, "after"), "2.4 MB line over many reads dropped, resync at newline");

	reset(&lb);
	line_buf_feed(&lb, big, 100);
	line_buf_feed(&lb, big, LINE_MAX_LEN);
	feed(&lb, "\nok\n");
	CHECK(got.n == 1 && IS(0, "ok"), "held part plus a read crossing the cap: dropped");

	{
		/* Reports go to stderr: count them there. */
		FILE *cap = tmpfile();
		int saved = dup(2);
		char text[512] = "";
		size_t n;

		reset(&lb);
		fflush(stderr);
		dup2(fileno(cap), 2);
		for (int i = 0; i < 3; i++) {
			line_buf_feed(&lb, big, sizeof(big));
			feed(&lb, "\n");
		}
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		rewind(cap);
		n = fread(text, 1, sizeof(text) - 1, cap);
		text[n] = '\0';
		fclose(cap);
		CHECK(got.n == 0 && !strcmp(text, "test-origin: dropped a line longer than 8192 bytes\n"),
		      "three over-long lines: one report, with the origin");
	}

	reset(&lb);
	feed(&lb, "done\nunterminated");
	line_buf_finish(&lb);
	CHECK(got.n == 1, "finish drops the unterminated tail (it may be a cut, forged line)");
	line_buf_finish(&lb);
	CHECK(got.n == 1, "... and a second finish has nothing to drop");

	reset(&lb);
	line_buf_feed(&lb, big, LINE_MAX_LEN + 10);
	line_buf_finish(&lb);
	CHECK(got.n == 0, "finish inside an over-long line delivers nothing");

	reset(&lb);
	feed(&lb, "stale");
	line_buf_discard(&lb);
	feed(&lb, "fresh\n");
	CHECK(got.n == 1 && IS(0, "fresh"), "discard forgets the held tail");

	reset(&lb);
	line_buf_skip_to_newline(&lb);
	feed(&lb, "end of a line\nwhole\n");
	CHECK(got.n == 1 && IS(0, "whole"), "skip_to_newline drops the rest of the line");

	reset(&lb);
	line_buf_whole(&lb, "a\nb", 3);
	line_buf_whole(&lb, big, LINE_MAX_LEN + 1);
	line_buf_whole(&lb, big, LINE_MAX_LEN);
	CHECK(got.n == 2 && IS(0, "a\nb") && got.len[1] == LINE_MAX_LEN,
	      "whole: newline kept inside, cap applied");
	return tap_done();
}
