# shellcheck shell=bash
# clients.bash - what a mail client does, run from the client namespace,
# every step bounded in time. Each function answers one question with its
# exit status (0 = yes) and writes its transcript to stderr (bats shows it
# when a test fails).
#
# Common options, before the positional arguments:
#   --from ADDR     source address (e.g. PG_CLIENT4_ALT); default: the route's
#   --ns NS         namespace to run in; default PG_NS_CLIENT
#   --timeout S     connect/read timeout; default PG_CONNECT_TIMEOUT (2 s)
#
#   pg_tcp_connect [opts] HOST PORT            a TCP handshake completes;
#                  exit 1 when it timed out (SYN dropped), 2 when refused (RST)
#   pg_tcp_blocked [opts] HOST PORT...        every connect times out (run in
#                  parallel: one timeout for all ports); prints the outcomes
#   pg_tcp_banner  [opts] HOST PORT            connects and prints the first line
#   pg_smtp_send   [opts] [--tls] HOST PORT TOKEN
#                  the MTA accepts a message (250 after DATA) whose Subject
#                  and body carry TOKEN; --tls: TLS on connect (port 465)
#   pg_pop3_login  [opts] [--tls] HOST [USER [PASS [PORT]]]  POP3 login (+ LIST)
#                  works (curl; exit 67 = login denied); --tls: pop3s on 995
#   pg_imap_login  [opts] [--tls] HOST [USER [PASS [PORT]]]  the same for IMAP
#                  (+ EXAMINE INBOX); --tls: imaps on 993
#   pg_smtp_session_open [opts] HOST PORT  connect, read the banner, then wait
#   pg_smtp_session_finish TOKEN           ... send EHLO/MAIL/RCPT/DATA/QUIT
#   pg_smtp_session_kill                   stop an open session (teardown)
#
# HOST may be an IPv6 literal without brackets (2001:db8::25).

_PG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/common.bash
. "$_PG_LIB_DIR/common.bash"

PG_MAIL_FROM=${PG_MAIL_FROM:-bob@example.test}

# _pg_client_opts "$@": parse the common options into _o_from, _o_ns,
# _o_timeout, _o_tls; leaves the rest in _o_args.
_pg_client_opts() {
	_o_from='' _o_ns=${PG_NS_CLIENT:-} _o_timeout=$PG_CONNECT_TIMEOUT _o_tls=0
	_o_args=()
	while [ $# -gt 0 ]; do
		case $1 in
		--from) _o_from=$2; shift 2 ;;
		--ns) _o_ns=$2; shift 2 ;;
		--timeout) _o_timeout=$2; shift 2 ;;
		--tls) _o_tls=1; shift ;;
		--) shift; _o_args+=("$@"); break ;;
		*) _o_args+=("$1"); shift ;;
		esac
	done
	[ -n "$_o_ns" ] || { pg_die "no client namespace (run pg_netns_setup)"; return 1; }
}

# _pg_url_host HOST: HOST, bracketed when it is an IPv6 literal.
_pg_url_host() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }

# shellcheck disable=SC2016  # perl and bash programs: expanded by them
# perl core only (IO::Socket::IP): connect with a timeout from an optional
# source; with MODE=banner also print the first line received.
_PG_TCP_PERL='
use IO::Socket::IP; use IO::Select;
my ($host, $port, $src, $to, $mode) = @ARGV;
use Errno qw(ETIMEDOUT ECONNREFUSED EINPROGRESS);
my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => "tcp",
	Timeout => $to, ($src ne "" ? (LocalHost => $src) : ()))
	or do {
		my $e = $!;
		print STDERR "connect $host port $port", ($src ne "" ? " from $src" : ""), ": $e\n";
		exit(($e == ETIMEDOUT || $e == EINPROGRESS) ? 1 : $e == ECONNREFUSED ? 2 : 4);
	};
exit 0 unless $mode eq "banner";
IO::Select->new($s)->can_read($to) or do { print STDERR "no banner within ${to}s\n"; exit 3 };
my $l = <$s>; defined $l or exit 3; $l =~ s/\r?\n$//; print "$l\n"; exit 0;'

# pg_tcp_connect [--from ADDR] [--ns NS] [--timeout S] HOST PORT
pg_tcp_connect() {
	_pg_client_opts "$@" || return 1
	local host=${_o_args[0]} port=${_o_args[1]}
	timeout $((_o_timeout + 3)) nsenter --net="/run/netns/$_o_ns" -- \
		perl -e "$_PG_TCP_PERL" "$host" "$port" "$_o_from" "$_o_timeout" connect
}

# pg_tcp_blocked [--from ADDR] [--ns NS] [--timeout S] HOST PORT...: each
# connect times out (what a client sees when the gate drops its SYNs). All
# ports are tried at once, so this costs one timeout however many ports.
pg_tcp_blocked() {
	_pg_client_opts "$@" || return 1
	local host=${_o_args[0]} p rc=0 st
	local -a ports=("${_o_args[@]:1}") pids=() fwd=()
	[ -n "$_o_from" ] && fwd+=(--from "$_o_from")
	for p in "${ports[@]}"; do
		pg_tcp_connect "${fwd[@]}" --ns "$_o_ns" --timeout "$_o_timeout" "$host" "$p" 2>/dev/null &
		pids+=($!)
	done
	for p in "${!ports[@]}"; do
		wait "${pids[$p]}" && st=0 || st=$?
		case $st in
		1) echo "port ${ports[$p]}: timed out (blocked)" ;;
		0) echo "port ${ports[$p]}: CONNECTED"; rc=1 ;;
		2) echo "port ${ports[$p]}: refused (RST)"; rc=1 ;;
		*) echo "port ${ports[$p]}: failed (exit $st)"; rc=1 ;;
		esac
	done
	return "$rc"
}

# pg_tcp_banner [--from ADDR] [--ns NS] [--timeout S] HOST PORT
pg_tcp_banner() {
	_pg_client_opts "$@" || return 1
	local host=${_o_args[0]} port=${_o_args[1]}
	timeout $((2 * _o_timeout + 3)) nsenter --net="/run/netns/$_o_ns" -- \
		perl -e "$_PG_TCP_PERL" "$host" "$port" "$_o_from" "$_o_timeout" banner
}

# swaks can do IPv6 / TLS only with its recommended perl modules
# (libio-socket-inet6-perl, libnet-ssleay-perl, not installed by
# --no-install-recommends); without them pg_smtp_send uses curl.
_pg_swaks_can() { swaks --support 2>&1 | grep -q "^=== $1 supported"; }

# pg_smtp_send [--from ADDR] [--ns NS] [--timeout S] [--tls] HOST PORT TOKEN
pg_smtp_send() {
	_pg_client_opts "$@" || return 1
	local host=${_o_args[0]} port=${_o_args[1]} token=${_o_args[2]:-}
	[ -n "$token" ] || { pg_die "pg_smtp_send: no TOKEN"; return 2; }
	local rcpt=${PG_MAIL_RCPT:-alice@popgate.test} t=$_o_timeout rc
	local tool=${PG_SMTP_TOOL:-swaks}     # PG_SMTP_TOOL=curl forces curl
	if [ "$tool" = swaks ]; then
		case $host in *:*) _pg_swaks_can IPv6 || tool=curl ;; esac
		[ "$_o_tls" = 1 ] && ! _pg_swaks_can TLS && tool=curl
	fi
	if [ "$tool" = swaks ]; then
		local -a a=(--server "$host" --port "$port" --to "$rcpt" --from "$PG_MAIL_FROM"
			--helo client.popgate.test --timeout "$t"
			--header "Subject: popgate e2e $token" --body "popgate e2e message $token")
		[ -n "$_o_from" ] && a+=(--local-interface "$_o_from")
		[ "$_o_tls" = 1 ] && a+=(--tls-on-connect)
		timeout $((4 * t + 5)) nsenter --net="/run/netns/$_o_ns" -- swaks "${a[@]}" >&2 &&
			rc=0 || rc=$?
	else
		local scheme=smtp
		[ "$_o_tls" = 1 ] && scheme=smtps
		local -a a=(-sS --connect-timeout "$t" --max-time $((3 * t + 2))
			--url "$scheme://$(_pg_url_host "$host"):$port/client.popgate.test"
			--mail-from "$PG_MAIL_FROM" --mail-rcpt "$rcpt" -T - -v)
		[ -n "$_o_from" ] && a+=(--interface "$_o_from")
		[ "$_o_tls" = 1 ] && a+=(-k)
		local msg log
		msg=$(mktemp "${PG_TMP:-/tmp}/msg.XXXX") && log=$msg.log || return 1
		printf 'From: %s\r\nTo: %s\r\nSubject: popgate e2e %s\r\n\r\npopgate e2e message %s\r\n' \
			"$PG_MAIL_FROM" "$rcpt" "$token" "$token" >"$msg"
		timeout $((4 * t + 5)) nsenter --net="/run/netns/$_o_ns" -- curl "${a[@]}" \
			<"$msg" >"$log" 2>&1 && rc=0 || rc=$?
		grep -E '^[<>] |^curl:' "$log" >&2 || true
		rm -f "$msg" "$log"
	fi
	[ "$rc" -eq 0 ] || pg_note "pg_smtp_send via $tool to $host port $port: exit $rc"
	return "$rc"
}

# _pg_curl_login SCHEME DEFAULT_PORT REQUEST [opts] HOST [USER [PASS [PORT]]]
_pg_curl_login() {
	local scheme=$1 dport=$2 req=$3; shift 3
	_pg_client_opts "$@" || return 1
	local host=${_o_args[0]} user=${_o_args[1]:-${PG_POP_USER:-alice}}
	local pass=${_o_args[2]:-${PG_POP_PASS:-}} port=${_o_args[3]:-$dport} t=$_o_timeout
	local -a a=(-sS --connect-timeout "$t" --max-time $((3 * t + 2)) -u "$user:$pass"
		--url "$scheme://$(_pg_url_host "$host"):$port/")
	[ -n "$req" ] && a+=(-X "$req")
	[ -n "$_o_from" ] && a+=(--interface "$_o_from")
	case $scheme in *s) a+=(-k) ;; esac
	local rc
	timeout $((4 * t + 5)) nsenter --net="/run/netns/$_o_ns" -- curl "${a[@]}" >&2 &&
		rc=0 || rc=$?
	[ "$rc" -eq 0 ] || pg_note "$scheme login as $user to $host port $port: curl exit $rc (67: login denied, 28: timeout, 7: refused)"
	return "$rc"
}

# pg_pop3_login [opts] [--tls] HOST [USER [PASS [PORT]]]: log in (LIST).
pg_pop3_login() {
	case " $* " in *" --tls "*) _pg_curl_login pop3s 995 '' "$@" ;;
	*) _pg_curl_login pop3 110 '' "$@" ;; esac
}

# pg_imap_login [opts] [--tls] HOST [USER [PASS [PORT]]]: log in (EXAMINE INBOX).
pg_imap_login() {
	case " $* " in *" --tls "*) _pg_curl_login imaps 993 'EXAMINE INBOX' "$@" ;;
	*) _pg_curl_login imap 143 'EXAMINE INBOX' "$@" ;; esac
}

# The slow session: a bash /dev/tcp client in the client namespace connects,
# reads the banner and waits (at most 20 s) for pg_smtp_session_finish, which
# lets it send a whole message. Proves that a connection opened while allowed
# survives a revoke (only new connections are gated).
# shellcheck disable=SC2016
_PG_SESSION_SCRIPT='
host=$1 port=$2 dir=$3 rcpt=$4 from=$5 t=$6
exec 3<>"/dev/tcp/$host/$port" || exit 10
reply() { # read one (possibly multi-line) SMTP reply; print its last line
	local l
	while IFS= read -r -t "$t" l <&3; do
		l=${l%$'"'"'\r'"'"'}
		echo "<- $l" >>"$dir/transcript"
		case $l in [0-9][0-9][0-9]-*) continue ;; esac
		echo "$l"; return 0
	done
	echo "<- (no reply within ${t}s)" >>"$dir/transcript"; return 1
}
cmd() { echo "-> $1" >>"$dir/transcript"; printf "%s\r\n" "$1" >&3; }
b=$(reply) || exit 11
echo "$b" >"$dir/banner"
for _ in $(seq 200); do [ -s "$dir/go" ] && break; sleep 0.1; done
[ -s "$dir/go" ] || exit 12
token=$(cat "$dir/go")
cmd "EHLO client.popgate.test"; r=$(reply) && [ "${r:0:3}" = 250 ] || exit 13
cmd "MAIL FROM:<$from>";       r=$(reply) && [ "${r:0:3}" = 250 ] || exit 14
cmd "RCPT TO:<$rcpt>";         r=$(reply) && [ "${r:0:3}" = 250 ] || exit 15
cmd "DATA";                    r=$(reply) && [ "${r:0:3}" = 354 ] || exit 16
printf "Subject: popgate e2e %s\r\nFrom: <%s>\r\nTo: <%s>\r\n\r\npopgate e2e message %s\r\n.\r\n" \
	"$token" "$from" "$rcpt" "$token" >&3
echo "-> (message $token)" >>"$dir/transcript"
r=$(reply) && [ "${r:0:3}" = 250 ] || exit 17
cmd "QUIT"; reply >/dev/null
exit 0'

# pg_smtp_session_open [--ns NS] [--timeout S] HOST PORT: start the slow
# session; returns once the banner was read (0) or it failed (1).
pg_smtp_session_open() {
	_pg_client_opts "$@" || return 1
	local host=${_o_args[0]} port=${_o_args[1]}
	pg_run_init || return 1
	PG_SESSION_DIR=$(mktemp -d "$PG_TMP/session.XXXX") || return 1
	export PG_SESSION_DIR
	timeout 40 nsenter --net="/run/netns/$_o_ns" -- bash -c "$_PG_SESSION_SCRIPT" session \
		"$host" "$port" "$PG_SESSION_DIR" "${PG_MAIL_RCPT:-alice@popgate.test}" \
		"$PG_MAIL_FROM" "$((_o_timeout + 3))" \
		</dev/null >"$PG_SESSION_DIR/out" 2>&1 &
	PG_SESSION_PID=$!
	export PG_SESSION_PID
	pg_bg_register "$PG_SESSION_PID"
	if ! pg_wait_for $((_o_timeout + 5)) test -s "$PG_SESSION_DIR/banner"; then
		pg_note "slow session to $host port $port: no banner"
		cat "$PG_SESSION_DIR/out" "$PG_SESSION_DIR/transcript" >&2 2>/dev/null
		pg_smtp_session_kill
		return 1
	fi
	pg_note "slow session: $(cat "$PG_SESSION_DIR/banner")"
}

# pg_smtp_session_finish TOKEN: let the open session send its message;
# 0 when the message got 250.
pg_smtp_session_finish() {
	[ -n "${PG_SESSION_PID:-}" ] || { pg_die "no open session"; return 1; }
	echo "$1" >"$PG_SESSION_DIR/go.tmp" && mv "$PG_SESSION_DIR/go.tmp" "$PG_SESSION_DIR/go"
	local rc
	wait "$PG_SESSION_PID" 2>/dev/null && rc=0 || rc=$?
	PG_SESSION_PID=
	cat "$PG_SESSION_DIR/transcript" "$PG_SESSION_DIR/out" >&2 2>/dev/null
	[ "$rc" -eq 0 ] || pg_note "slow session exit $rc (11 no banner, 13-17 a reply was not 250/354)"
	return "$rc"
}

# pg_smtp_session_kill: stop a session still open (idempotent).
pg_smtp_session_kill() {
	[ -n "${PG_SESSION_PID:-}" ] && pg_kill_tree "$PG_SESSION_PID" 2
	PG_SESSION_PID=
	return 0
}
