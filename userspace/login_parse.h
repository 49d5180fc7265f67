/*
 * login_parse.h - one log line -> the client address of a successful POP3/IMAP
 * login, or nothing.
 *
 *   login_parser_new(&p, LOGIN_DOVECOT | LOGIN_PATTERN);
 *   login_parser_add_pattern(p, "mypopd ^OK %{user} from %{ip}$", err, sizeof(err));
 *   if (login_parse(p, line, len, &l) == 1) ... l.addr, l.user ...
 *   login_parser_free(p);
 *
 * Log lines are attacker-influenced (a user name can hold anything), so a line
 * counts only when all of this holds, else login_parse() returns 0:
 *  - The program tag of the syslog prefix names the server ("dovecot",
 *    "imap-login", "pop3d", "cyrus/imap", ...); text in the message body never
 *    selects a format. Prefixes understood: RFC 3164 ("Nov 25 15:42:37 host
 *    tag[pid]: msg", with or without <PRI>, host or pid), rsyslog's RFC 3339
 *    high-precision form, RFC 5424, Dovecot's own log_path form ("Nov 25
 *    15:42:37 imap-login: Info: msg") and the journal form "tag[pid]: msg".
 *  - The message is the server's success message, and the address is the field
 *    the server itself writes, read from the end that the client cannot reach
 *    (the user name comes before the address in every format but Cyrus, where
 *    the address comes first), with everything after it checked against what
 *    the server writes there.
 *  - The address is made of address characters only and parses as IPv4 or IPv6.
 * A line must be whole: cut right after a user name that forges a complete
 * line ("user=<x>, method=PLAIN, rip=203.0.113.9, lip=..."), it IS that forged
 * line. Servers cap user names (Dovecot, UW: 80 bytes) far below syslog's
 * limits, so only a reader that passes on a cut line could do that: callers
 * must not hand over lines they cut or found unterminated.
 *
 * Formats (tags -> success message):
 *  dovecot  dovecot: {pop3,imap}-login: [Info: ]Login: user=<U>, method=M, rip=A,
 *           lip=A[, mpid=N][, TLS|secured|TLS handshaking][, session=<B>]
 *           (2.2-2.4 defaults; the user is written unescaped, so the last
 *           ", rip=" is the server's). The log_path form is tagged
 *           pop3-login/imap-login directly. A changed login_log_format_elements
 *           that puts other fields after rip= is refused: use a pattern.
 *  courier  pop3d, pop3d-ssl, imapd, imapd-ssl, courierpop3login, imaplogin:
 *           [INFO: ]LOGIN, user=U, ip=[A][, port=[N]][, protocol=P][, stls=1]
 *  cyrus    [PREFIX/]{pop3,pop3s,imap,imaps}, or "cyrus" alone (rsyslog's
 *           RFC 5424 APP-NAME drops "/imap"): login: [HOST ][A] U MECH[+TLS]
 *           User logged in[ SESSIONID=<S>]; user "anonymous" is refused.
 *  uwimap   imapd, ipop3d: {Login,Admin Login,Authenticated,Auth,APOP} user=U
 *           host=[HOST ][A][ mech=M| nmsgs=N/N| no mailbox] (from source: not
 *           packaged by Debian 12, not captured)
 *  qpopper  popper, qpopper, in.qpopper: [(vX) ]POP login by user "U" at (HOST)
 *           A[ [file.c:N]] (from source: not packaged by Debian 12). The line
 *           ends with the address, so a line cut inside it ("198.51.100.77"
 *           -> "198.51.100.7") cannot be told from a whole one.
 *  popa3d   NEVER matches: popa3d logs "Authentication passed for U" without
 *           the client address ("Session from A" is a separate line, and only
 *           in standalone mode), so no line of it can be trusted on its own.
 *  pattern  operator-defined, see login_parser_add_pattern().
 *
 * Functions return 0 or a negative errno unless said otherwise.
 */
#ifndef POPGATE_LOGIN_PARSE_H
#define POPGATE_LOGIN_PARSE_H
#include <netinet/in.h>
#include <stddef.h>

#define LOGIN_USER_MAX 64

enum login_format {            /* bits, for the config's `format` key */
	LOGIN_DOVECOT = 1u << 0, LOGIN_COURIER = 1u << 1, LOGIN_CYRUS = 1u << 2,
	LOGIN_UWIMAP = 1u << 3, LOGIN_QPOPPER = 1u << 4, LOGIN_POPA3D = 1u << 5,
	LOGIN_PATTERN = 1u << 6,   /* operator-defined patterns */
	LOGIN_ALL = 0x7f,
};

/* "dovecot", "courier", "cyrus", "uwimap", "qpopper", "popa3d", "pattern"
 * (case-sensitive) -> its bit; -EINVAL for anything else. */
int login_format_from_name(const char *name, unsigned *bit);
/* The name of one bit; NULL if bit is not exactly one known format. */
const char *login_format_name(unsigned bit);

struct login {
	struct in6_addr addr;          /* IPv4 (and IPv4-mapped) held as ::ffff:a.b.c.d */
	char user[LOGIN_USER_MAX];     /* as the server wrote it; truncated; bytes outside printable ASCII replaced by '?' */
	unsigned format;               /* the enum bit that matched */
};

struct login_parser;
/* formats: an OR of enum login_format bits, the formats tried; -EINVAL if 0
 * or unknown bits, -ENOMEM. */
int login_parser_new(struct login_parser **out, unsigned formats);
/*
 * An operator-defined success pattern: "TAG REGEX".
 *  TAG    the program tag the line must carry, exactly as written before
 *         "[pid]:" or ":" (e.g. "mypopd", "cyrus/pop3"): letters, digits and
 *         . _ - / only. It selects the pattern the way a built-in format's
 *         tags do, so text in the body of another program's line never
 *         reaches the regex.
 *  REGEX  a POSIX extended regular expression (regcomp(3)) that must match
 *         the WHOLE message after "TAG[pid]: " (it is anchored at both ends).
 *         %{ip} (exactly once) stands for the client address, %{user} (at
 *         most once) for the user name. POSIX matching is leftmost-longest,
 *         so an earlier %{user} takes as much as it can: write the address's
 *         surroundings so that only the server's own text can follow it.
 * Patterns are tried only when the parser's formats include LOGIN_PATTERN, in
 * the order added. -EINVAL with a one-line reason in err on a bad pattern,
 * -ENOMEM.
 */
int login_parser_add_pattern(struct login_parser *p, const char *pattern, char *err, size_t errlen);
void login_parser_free(struct login_parser *p);
/*
 * line: one log line without its newline; not NUL-terminated, any bytes.
 * 1: a successful login, *out filled. 0: anything else (failed login, other
 * line, garbage, doubt); *out is then unspecified.
 */
int login_parse(const struct login_parser *p, const char *line, size_t len, struct login *out);
#endif
