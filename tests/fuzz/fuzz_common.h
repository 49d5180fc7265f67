/*
 * fuzz_common.h - what the libFuzzer targets (tests/fuzz/fuzz_*.c) share.
 *
 * FUZZ_ASSERT(cond, "fmt", ...) turns a broken promise into an abort(), which
 * libFuzzer reports and saves like any sanitizer finding: the invariants the
 * targets check are as much findings as crashes are.
 *
 * The login targets also link fuzz_spans.c with
 *   -Wl,--wrap=login_set_user,--wrap=login_set_addr,--wrap=regexec
 * so that they see which bytes of the line the parser took the user name and
 * the address from, and whether an operator pattern matched the whole
 * message: login_parse() itself only hands back the results.
 */
#ifndef POPGATE_FUZZ_COMMON_H
#define POPGATE_FUZZ_COMMON_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "login_parse.h"

static inline __attribute__((noreturn, format(printf, 4, 5))) void
fuzz_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\n==popgate-fuzz== INVARIANT BROKEN at %s:%d: %s\n==popgate-fuzz== ",
		file, line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

#define FUZZ_ASSERT(cond, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

/* libFuzzer's entry points, declared for -Wmissing-prototypes readers. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- fuzz_spans.c: login_parse() results against login_parse.h ---- */

/* The fields of the line that the last successful login_parse() read: NULL
 * when it set none (a pattern without %{user} leaves the user empty). */
struct fuzz_spans {
	const char *user, *addr;
	size_t user_n, addr_n;
};

/* Forget the fields seen so far: call before each login_parse(). */
void fuzz_spans_reset(void);
struct fuzz_spans fuzz_spans_get(void);

/*
 * What every successful parse must give, whatever the format: one format bit
 * out of those enabled; a NUL-terminated user of printable ASCII that is what
 * the recorded user field reads as; an address that is the text of address
 * characters recorded inside the line, disjoint from the user field. bounded:
 * also require the address field to be a whole run of address characters (no
 * address character right before or after it), which holds for every
 * built-in format but not for every operator pattern.
 */
void fuzz_check_login(const char *line, size_t len, const struct login *l,
		      unsigned formats, bool bounded);

/* a and b are the same login: address, user and format. */
bool fuzz_same_login(const struct login *a, const struct login *b);
#endif
