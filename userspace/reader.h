/*
 * reader.h - popgated's unprivileged half.
 *
 * Log lines are text that clients influence. The reader follows the log
 * sources and parses those lines in a process of its own that holds no
 * capability and no BPF object, and hands the privileged half nothing but
 * fixed-size login records over a SOCK_SEQPACKET socket.
 *
 * reader_spawn() forks it. The reader loads the configuration itself (its
 * sources, formats and patterns), at start and on SIGHUP, which popgated
 * forwards once it has validated the file: sources that stay keep their
 * position, so a reload loses no line. The reader ends on SIGTERM, when its
 * parent dies, or when its socket closes. Functions return 0 or -errno.
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
};

/* *sock: the parent's end, non-blocking; *pid: the reader's. */
int reader_spawn(const char *config_path, bool from_start, int *sock, pid_t *pid);
/* Up to max (at most READER_RECV_MAX) waiting logins into r[]: *got of them
 * are valid, also when an error follows them. 0 (none waiting when *got is
 * 0), -EPIPE: the reader is gone, -EPROTO: it sent a malformed record. */
#define READER_RECV_MAX 32
int reader_recv(int sock, struct login_record *r, unsigned max, unsigned *got);
#endif
