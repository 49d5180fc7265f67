/*
 * fuzz_pattern.c - libFuzzer target: the operator pattern compiler
 * (login_parser_add_pattern) and its matching.
 *
 * Input: "TAG REGEX" up to the first newline, then log lines, one a line.
 * A refused pattern must come with a one-line reason; an accepted one is run
 * over the lines, and a line it reads must keep login_parse.h's promises
 * (fuzz_check_login, and the whole-message check on regexec in
 * fuzz_spans.c). The address need not be a whole run of address characters
 * here: "%{ip}[0-9]" is a pattern an operator may write.
 */
#include <errno.h>
#include <string.h>

#include "fuzz_common.h"
#include "login_parse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void run_lines(const struct login_parser *p, const char *s, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t len = nl ? (size_t)(nl - s) : n;
		struct login l;

		fuzz_spans_reset();
		if (login_parse(p, s, len, &l) == 1)
			fuzz_check_login(s, len, &l, LOGIN_PATTERN, false);
		s += len + (nl != NULL);
		n -= len + (nl != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	size_t plen = nl ? (size_t)(nl - in) : size;
	struct login_parser *p;
	char *pattern, err[256];
	int r;

	/* The config hands over a C string: a NUL ends the pattern there. */
	pattern = strndup(in, plen);
	if (!pattern || login_parser_new(&p, LOGIN_PATTERN) != 0)
		abort();
	memset(err, 0x7f, sizeof(err));
	r = login_parser_add_pattern(p, pattern, err, sizeof(err));
	if (r == 0) {
		run_lines(p, in + plen + (nl != NULL), size - plen - (nl != NULL));
	} else {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM, "add_pattern returned %d", r);
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) && err[0] != '\0' &&
			    !strchr(err, '\n'),
			    "pattern refused without a one-line reason: \"%s\"", pattern);
	}
	login_parser_free(p);
	free(pattern);
	return 0;
}
