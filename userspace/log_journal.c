/* log_journal.c - see log_journal.h. */
#include "log_journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "line_buf.h"
#include "msg.h"

#define ENTRIES_PER_DISPATCH 1024 /* see "bounded amount of work" in log_source.h */
#define ORIGIN "journal"

struct log_journal {
	sd_journal *j;
	struct line_buf lb;     /* for the length cap and its reports */
	size_t len;             /* of the line being built; may exceed what line holds */
	char line[LINE_MAX_LEN];
};

static void put(struct log_journal *lj, const void *data, size_t len)
{
	if (lj->len <= sizeof(lj->line) && len <= sizeof(lj->line) - lj->len)
		memcpy(lj->line + lj->len, data, len);
	lj->len += len;
}

/* Append the value of the first of fields the entry has; false if none.
 * Copied at once: the journal's pointer lasts only until the next lookup. */
static bool put_field(struct log_journal *lj, const char *const *fields)
{
	for (; *fields; fields++) {
		size_t name_len = strlen(*fields) + 1; /* "NAME=" */
		const void *data;
		size_t len;

		if (sd_journal_get_data(lj->j, *fields, &data, &len) >= 0 && len >= name_len) {
			put(lj, (const char *)data + name_len, len - name_len);
			return true;
		}
	}
	return false;
}

static void deliver_entry(struct log_journal *lj)
{
	static const char *const ident[] = { "SYSLOG_IDENTIFIER", "_COMM", NULL };
	static const char *const pid[] = { "_PID", "SYSLOG_PID", NULL };
	static const char *const message[] = { "MESSAGE", NULL };
	size_t no_pid;

	lj->len = 0;
	if (!put_field(lj, ident))
		put(lj, "unknown", 7);
	no_pid = lj->len;
	put(lj, "[", 1);
	if (put_field(lj, pid))
		put(lj, "]", 1);
	else
		lj->len = no_pid;
	put(lj, ": ", 2);
	if (put_field(lj, message))
		line_buf_whole(&lj->lb, lj->line, lj->len);
}

int log_journal_dispatch(struct log_journal *lj)
{
	int r = sd_journal_process(lj->j);

	if (r < 0) {
		msg(LOG_ERR, ORIGIN ": sd_journal_process: %s", strerror(-r));
		return r;
	}
	for (int i = 0; i < ENTRIES_PER_DISPATCH; i++) {
		r = sd_journal_next(lj->j);
		if (r < 0) {
			msg(LOG_ERR, ORIGIN ": sd_journal_next: %s", strerror(-r));
			return r;
		}
		if (r == 0)
			return 0;
		deliver_entry(lj);
	}
	return 1;
}

static int add_unit_match(sd_journal *j, const char *unit)
{
	char *match;
	int r;

	if (asprintf(&match, "_SYSTEMD_UNIT=%s%s", unit, strchr(unit, '.') ? "" : ".service") < 0)
		return -ENOMEM;
	r = sd_journal_add_match(j, match, 0);
	free(match);
	return r;
}

/* Only what comes after now. seek_tail then next is unreliable (systemd
 * issue 9934): step back onto the last entry instead, and next moves past
 * it. With no entry to step onto, everything that comes is new. */
static int seek_end(sd_journal *j)
{
	int r = sd_journal_seek_tail(j);

	if (r >= 0)
		r = sd_journal_previous(j);
	if (r == 0)
		r = sd_journal_seek_head(j);
	return r < 0 ? r : 0;
}

static int start(struct log_journal *lj, const char *unit, const char *directory)
{
	const char *what = directory ? "sd_journal_open_directory" : "sd_journal_open";
	int r;

	if (directory)
		r = sd_journal_open_directory(&lj->j, directory, 0);
	else
		r = sd_journal_open(&lj->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r >= 0 && unit && (r = add_unit_match(lj->j, unit)) < 0)
		what = "match";
	/* Before any reading, so that the files are watched from the start. */
	if (r >= 0 && (r = sd_journal_get_fd(lj->j)) < 0)
		what = "sd_journal_get_fd";
	if (r >= 0 && (r = seek_end(lj->j)) < 0)
		what = "seek";
	if (r < 0) {
		msg(LOG_ERR, ORIGIN "%s%s%s%s: %s: %s", unit ? " of " : "", unit ? unit : "",
		    directory ? " in " : "", directory ? directory : "", what, strerror(-r));
		return r;
	}
	if (!sd_journal_reliable_fd(lj->j))
		msg(LOG_WARNING, ORIGIN ": files on a file system without reliable change "
		    "notification: new entries may be seen late");
	return 0;
}

int log_journal_open(struct log_journal **out, const char *unit, const char *directory,
		     log_line_fn fn, void *ctx)
{
	struct log_journal *lj = calloc(1, sizeof(*lj));
	int r;

	if (!lj) {
		msg(LOG_ERR, ORIGIN ": out of memory");
		return -ENOMEM;
	}
	line_buf_init(&lj->lb, ORIGIN, fn, ctx);
	r = start(lj, unit, directory);
	if (r < 0) {
		log_journal_free(lj);
		return r;
	}
	*out = lj;
	return 0;
}

int log_journal_fd(const struct log_journal *lj) { return sd_journal_get_fd(lj->j); }
const char *log_journal_name(const struct log_journal *lj) { (void)lj; return ORIGIN; }

void log_journal_free(struct log_journal *lj)
{
	if (!lj)
		return;
	sd_journal_close(lj->j);
	free(lj);
}
