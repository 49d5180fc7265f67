/*
 * test_log_journal.c - journal entries as log lines (log_journal.h), on real
 * journal files: no journald runs here, so systemd-journal-remote (package
 * systemd-journal-remote) writes them from journal export format fed to its
 * stdin, while the sources follow the directory. _SYSTEMD_UNIT and _PID,
 * which journald would take from the sender, are given in the entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log_source.h"
#include "tap.h"

#define JOURNAL_REMOTE "/lib/systemd/systemd-journal-remote"
#define WAIT_MS 3000
#define QUIET_MS 300 /* above journal-remote's write-out */
#define MAX_GOT 16
#define BURST 3000

struct got {
	size_t n;
	char line[MAX_GOT][128];
	size_t len[MAX_GOT];
	const char *origin;
	char last[128];
};

static void on_line(void *ctx, const char *origin, const char *line, size_t len)
{
	struct got *g = ctx;
	size_t keep = len < sizeof(g->line[0]) - 1 ? len : sizeof(g->line[0]) - 1;

	g->origin = origin;
	if (g->n < MAX_GOT) {
		g->len[g->n] = keep;
		memcpy(g->line[g->n], line, keep);
	}
	memcpy(g->last, line, keep);
	g->last[keep] = '\0';
	g->n++;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll and dispatch until g has want lines or timeout_ms passed. */
static void drive(struct log_source *s, struct got *g, size_t want, int timeout_ms)
{
	long end = now_ms() + timeout_ms;

	while (g->n < want) { /* bounded by the deadline */
		struct pollfd p = { .fd = log_source_fd(s), .events = POLLIN };
		long left = end - now_ms();

		if (left < 0)
			return;
		if (poll(&p, 1, (int)left) > 0 && log_source_dispatch(s) < 0)
			return;
	}
}

static int got_is(const struct got *g, size_t i, const char *s, size_t len)
{
	return i < g->n && g->len[i] == len && !memcmp(g->line[i], s, len);
}
#define GOT_IS(g, i, lit) got_is(g, i, lit, sizeof(lit) - 1)

static void put(int fd, const void *s, size_t len)
{
	if (write(fd, s, len) != (ssize_t)len)
		abort();
}

/* One entry in export format. fields: "NAME=value\n" lines; message, unless
 * NULL, goes in the binary form, which may hold newlines and NUL bytes but
 * not nothing (journal-remote refuses an empty one). */
static void entry(int fd, const char *fields, const char *message, size_t mlen)
{
	struct timespec ts;
	char head[128];
	unsigned char le[8];

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(head, sizeof(head), "__REALTIME_TIMESTAMP=%llu\n",
		 (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	put(fd, head, strlen(head));
	put(fd, fields, strlen(fields));
	if (message) {
		put(fd, "MESSAGE\n", 8);
		for (int i = 0; i < 8; i++)
			le[i] = (uint64_t)mlen >> (8 * i);
		put(fd, le, sizeof(le));
		put(fd, message, mlen);
		put(fd, "\n", 1);
	}
	put(fd, "\n", 1);
}
#define ENTRY(fd, fields, lit) entry(fd, fields, lit, sizeof(lit) - 1)

#define DOVECOT "SYSLOG_IDENTIFIER=dovecot\n_PID=4242\n_SYSTEMD_UNIT=dovecot.service\n"
#define POSTFIX "SYSLOG_IDENTIFIER=postfix/smtpd\n_PID=77\n_SYSTEMD_UNIT=postfix.service\n"

static pid_t start_remote(const char *dir, int *wfd)
{
	char out[128];
	int p[2];
	pid_t pid;

	snprintf(out, sizeof(out), "--output=%s/remote.journal", dir);
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		execl(JOURNAL_REMOTE, JOURNAL_REMOTE, out, "-", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

static void stop_remote(pid_t pid, int wfd)
{
	int status;

	close(wfd); /* EOF: it writes out and exits */
	for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100000);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
}

static void test_journal(const char *dir)
{
	static struct got all, unit, exact;
	struct log_source *s_all = NULL, *s_unit = NULL, *s_exact = NULL;
	static char longmsg[10000];
	pid_t pid;
	int w;

	pid = start_remote(dir, &w);
	CHECK(log_source_journal(&s_all, NULL, dir, on_line, &all) == 0, "open the journal directory");
	if (!s_all) {
		stop_remote(pid, w);
		return;
	}
	ENTRY(w, DOVECOT, "old 1");
	ENTRY(w, POSTFIX, "old 2");
	drive(s_all, &all, 2, WAIT_MS);
	CHECK(all.n == 2 && GOT_IS(&all, 0, "dovecot[4242]: old 1") &&
	      GOT_IS(&all, 1, "postfix/smtpd[77]: old 2"),
	      "entries written after opening an empty journal delivered as IDENT[PID]: MESSAGE");
	CHECK(!strcmp(all.origin, "journal"), "origin is \"journal\"");

	CHECK(log_source_journal(&s_unit, "dovecot", dir, on_line, &unit) == 0 &&
	      log_source_journal(&s_exact, "postfix.service", dir, on_line, &exact) == 0,
	      "open with a unit match");
	if (!s_unit || !s_exact)
		goto out;
	drive(s_unit, &unit, 1, QUIET_MS);
	drive(s_exact, &exact, 1, QUIET_MS);
	CHECK(unit.n == 0 && exact.n == 0, "entries there before opening not delivered");

	ENTRY(w, DOVECOT, "pop3-login: Login: user=<a>, rip=192.0.2.1");
	ENTRY(w, POSTFIX, "connect from [192.0.2.1]");
	ENTRY(w, "_COMM=imap-login\nSYSLOG_PID=99\n_SYSTEMD_UNIT=dovecot.service\n", "no identifier");
	ENTRY(w, "SYSLOG_IDENTIFIER=dovecot\n_SYSTEMD_UNIT=dovecot.service\n", "no pid");
	ENTRY(w, DOVECOT, "two\nlines");
	ENTRY(w, DOVECOT, "nul\0byte");
	memset(longmsg, 'x', sizeof(longmsg));
	entry(w, DOVECOT, longmsg, sizeof(longmsg));
	ENTRY(w, DOVECOT, "after the long one");
	entry(w, "SYSLOG_IDENTIFIER=nomsg\n_SYSTEMD_UNIT=dovecot.service\n", NULL, 0);
	entry(w, "SYSLOG_IDENTIFIER=empty\n_SYSTEMD_UNIT=dovecot.service\nMESSAGE=\n", NULL, 0);
	drive(s_unit, &unit, 7, WAIT_MS);
	drive(s_unit, &unit, 8, QUIET_MS);
	CHECK(unit.n == 7, "unit match: %zu lines, want 7", unit.n);
	CHECK(GOT_IS(&unit, 0, "dovecot[4242]: pop3-login: Login: user=<a>, rip=192.0.2.1"),
	      "unit match: dovecot's line");
	CHECK(GOT_IS(&unit, 1, "imap-login[99]: no identifier"), "no SYSLOG_IDENTIFIER: _COMM, SYSLOG_PID");
	CHECK(GOT_IS(&unit, 2, "dovecot: no pid"), "no pid: no [PID]");
	CHECK(GOT_IS(&unit, 3, "dovecot[4242]: two\nlines"), "multi-line MESSAGE: one line");
	CHECK(GOT_IS(&unit, 4, "dovecot[4242]: nul\0byte"), "NUL byte in MESSAGE passed through");
	CHECK(GOT_IS(&unit, 5, "dovecot[4242]: after the long one"),
	      "10000-byte MESSAGE dropped, the next entry delivered");
	CHECK(GOT_IS(&unit, 6, "empty: "), "no MESSAGE: no line; empty MESSAGE: the prefix alone");

	drive(s_exact, &exact, 2, QUIET_MS);
	CHECK(exact.n == 1 && GOT_IS(&exact, 0, "postfix/smtpd[77]: connect from [192.0.2.1]"),
	      "unit given with its suffix: that unit only");
	drive(s_all, &all, 10, WAIT_MS);
	drive(s_all, &all, 11, QUIET_MS);
	CHECK(all.n == 10, "no match: every unit's entries (%zu lines, want 10)", all.n);

	/* More than one dispatch takes (1024 entries): the rest must follow
	 * without a new write. */
	for (int i = 0; i < BURST; i++) {
		char m[32];

		snprintf(m, sizeof(m), "burst %d", i);
		entry(w, DOVECOT, m, strlen(m));
	}
	drive(s_unit, &unit, 7 + BURST, 10 * WAIT_MS);
	CHECK(unit.n == 7 + BURST && !strcmp(unit.last, "dovecot[4242]: burst 2999"),
	      "burst of %d entries: %zu delivered, the last one last", BURST, unit.n - 7);
	drive(s_unit, &unit, SIZE_MAX, QUIET_MS);
	CHECK(poll(&(struct pollfd){ .fd = log_source_fd(s_unit), .events = POLLIN }, 1, 0) == 0,
	      "idle: fd not readable");
out:
	log_source_free(s_all);
	log_source_free(s_unit);
	log_source_free(s_exact);
	stop_remote(pid, w);
}

int main(void)
{
	char dir[] = "/tmp/popgate-journal.XXXXXX", file[64], missing[64];
	struct log_source *s = NULL;
	struct got g = { 0 };

	if (!mkdtemp(dir))
		return perror("mkdtemp"), 1;
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	CHECK(log_source_journal(&s, NULL, missing, on_line, &g) < 0 && !s,
	      "a journal directory that does not exist: error");
	if (access(JOURNAL_REMOTE, X_OK) == 0)
		test_journal(dir);
	else
		printf("ok %d # skip " JOURNAL_REMOTE " missing: install systemd-journal-remote\n", ++tap_n);
	snprintf(file, sizeof(file), "%s/remote.journal", dir);
	unlink(file);
	rmdir(dir);
	return tap_done();
}
