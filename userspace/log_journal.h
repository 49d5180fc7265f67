/*
 * log_journal.h - new entries of the systemd journal, as log lines.
 *
 * Each entry becomes "IDENT[PID]: MESSAGE", the shape syslog gives the same
 * message in a file, so one parser serves both. IDENT is SYSLOG_IDENTIFIER,
 * else _COMM, else "unknown"; PID is _PID, else SYSLOG_PID, and "[PID]" is
 * left out when there is neither. MESSAGE is passed as it is, newlines and
 * NUL bytes included, as one line; an entry without MESSAGE gives no line,
 * and one longer than LINE_MAX_LEN is dropped like an over-long line.
 *
 * Only entries added after the source was opened are delivered (if the
 * journal, or the unit's part of it, is empty then, all entries are new).
 *
 * unit: only entries whose _SYSTEMD_UNIT is that unit; "dovecot" means
 * "dovecot.service". _SYSTEMD_UNIT is set by journald from the sender's
 * cgroup, so a local user cannot forge it, unlike SYSLOG_IDENTIFIER: with
 * unit NULL, anyone who can run logger(1) can write lines this source
 * delivers. directory NULL: the local system journal (SD_JOURNAL_LOCAL_ONLY |
 * SD_JOURNAL_SYSTEM: not other machines' journals, not users' own); else the
 * journal files in directory, for tests or a journal kept elsewhere.
 */
#ifndef POPGATE_LOG_JOURNAL_H
#define POPGATE_LOG_JOURNAL_H
#include "log_source.h"

struct log_journal;

int log_journal_open(struct log_journal **out, const char *unit, const char *directory,
		     log_line_fn fn, void *ctx);
int log_journal_fd(const struct log_journal *lj);
/* 0: nothing more now; 1: work left (call again); negative errno: the
 * journal could not be read, the source is broken. */
int log_journal_dispatch(struct log_journal *lj);
const char *log_journal_name(const struct log_journal *lj);
void log_journal_free(struct log_journal *lj);
#endif
