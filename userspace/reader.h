/*
 * reader.h - popgated's unprivileged half.
 *
 * Log lines are text that clients influence. The reader follows the log
 * sources and parses those lines in a process of its own that holds no
 * capability and no BPF object, and hands the privileged half nothing but
 * fixed-size login records over a SOCK_SEQPACKET socket.
 *
 * reader_spawn() forks it and the child becomes reader_user (with adm and
 * systemd-journal where they exist), not just root without capabilities:
 * root's files, the pins among them, are open to any uid 0 process. The
 * reader loads the configuration itself (its sources, formats and
 * patterns), at start and when popgated, having validated the file, asks
 * with reader_reload(): sources that stay keep their position, so a reload
 * loses no line. The reader ends when its socket closes, when its parent
 * dies, or on SIGTERM (from the service manager: popgated itself may not
 * signal another user). Functions return 0 or -errno.
 */
#ifndef POPGATE_READER_H
#define POPGATE_READER_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "login_parse.h"

struct login_record {
	struct in6_addr addr;           /* IPv4 as IPv4-mapped, never unspecified */
	char user[LOGIN_USER_MAX];      /* NUL-terminated, printable ASCII */
	uint32_t format;                /* enum login_format bit */
	int32_t cpu;                    /* where the reader sent it from (a hint) */
};

/* *sock: the parent's end, non-blocking; *pid: the reader's. */
int reader_spawn(const char *config_path, bool from_start, const char *user, int *sock,
		 pid_t *pid);
struct config;
/* For --check: can reader_user read the configuration and the logs (those
 * that exist)? Each file it cannot read is printed on stdout. Returns an
 * enum reader_access, -EACCES when the configuration is not readable (the
 * reader cannot start), or -errno. */
enum reader_access {
	READER_ACCESS_OK,        /* all of them */
	READER_ACCESS_LOG,       /* a log is not: reported at run time, the rest works */
	READER_ACCESS_UNCHECKED, /* we may not take the user on (not root) */
};
int reader_check_access(const char *config_path, const struct config *c);
/* Ask the reader to load the configuration again. */
#define READER_CMD_RELOAD 'R'
int reader_reload(int sock);
/* Up to max (at most READER_RECV_MAX) waiting logins into r[]: *got of them
 * are valid, also when an error follows them. 0 (none waiting when *got is
 * 0), -EPIPE: the reader is gone, -EPROTO: it sent a malformed record. */
#define READER_RECV_MAX 32
int reader_recv(int sock, struct login_record *r, unsigned max, unsigned *got);
#endif
