# shellcheck shell=bash
# faults.bash - helpers for the fault and privilege suites
# (tests/e2e/faults.bats, tests/e2e/privileges.bats), on top of e2e.bash.
#
#   pgf_client_addrs N       N more IPv4 sources on the client, 198.51.100.10..
#                            (routed like PG_CLIENT4_ALT); prints them, one a line
#   pgf_daemon_conf [--pin-dir DIR] [--no-dovecot-log] MODE [CONF_LINE...]
#                            write PG_DAEMON_CONF like pg_daemon_start does, but
#                            with another pin dir or without Dovecot's log
#   pgf_daemon_run [WRAPPER...]
#                            start build/popgated -c PG_DAEMON_CONF in the relay
#                            namespace, behind exec-style WRAPPER words (setpriv,
#                            env: the PID stays popgated's); its own output file
#                            in PG_DAEMON_OUT; 0 once it says "running", 1 if it
#                            exited (PG_DAEMON_RC), 2 if neither within 15 s
#   pgf_daemon_kill9         SIGKILL PG_DAEMON_PID and wait until it is gone
#   pgf_out_mark / pgf_out_since MARK
#                            PG_DAEMON_OUT's size; what it got after MARK
#   pgf_pin_dir NAME         a pin dir of this run: /sys/fs/bpf/pge2e-<run>-NAME
#                            (swept like PG_PIN_DIR if the run dies)
#   pgf_pins_remove DIR      detach the relay's interface through DIR, remove DIR
#   pgf_extra_pins DIR       have pgf_gate_reset remove DIR too
#   pgf_dovecot_line ADDR [USER] [PROTO]
#                            a successful-login line as Dovecot writes it to its
#                            log_path (the shape of tests/fixtures/logins/
#                            dovecot-logpath.log)
#   pgf_faketime_lib         path of libfaketime.so.1; installs Debian's
#                            `faketime` with apt-get when it is missing
#   pgf_nobody CMD...        run CMD as nobody (uid/gid 65534, no groups, no caps)
#   pgf_caps CAP[,CAP...]    setpriv words for "uid 0 with only these
#                            capabilities" (inheritable, ambient, bounding set),
#                            e.g. pgf_daemon_run $(pgf_caps "$PGF_MIN_CAPS")
#   PGF_MIN_CAPS             what popgated needs (README "Privileges")
#   pgf_gate_reset           between tests: stop the daemon named by the pid
#                            file, detach and remove PG_PIN_DIR and every pin dir
#                            listed in $PG_TMP/extra-pins, remove the relay's
#                            clsact qdisc (a tc filter whose pins were removed)
#   pgf_copy_login ADDR FILE append Dovecot's latest successful-login line for
#                            ADDR to FILE, as a syslog daemon would relay it
#   pgf_log_writer FILE RECORD RELAY
#                            write 240 Dovecot login lines (rip=203.0.113.1..240)
#                            into FILE while rotating it every way a log is
#                            rotated; RECORD says what happened (see below)

_PG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/e2e.bash
. "$_PG_LIB_DIR/e2e.bash"

# pgf_client_addrs N: 198.51.100.10 .. 198.51.100.(9+N) on the client's
# interface (documentation range; the relay routes 198.51.100.0/24 to the
# client already). Idempotent.
pgf_client_addrs() {
	local n=$1 i a
	[ "$n" -ge 1 ] && [ "$n" -le 200 ] || { pg_die "pgf_client_addrs: 1..200"; return 1; }
	for ((i = 0; i < n; i++)); do
		a=198.51.100.$((10 + i))
		ip -n "$PG_NS_CLIENT" addr replace "$a/32" dev "$PG_IF_CLIENT" || return 1
		echo "$a"
	done
}

# pgf_daemon_conf [--pin-dir DIR] [--no-dovecot-log] MODE [CONF_LINE...]
pgf_daemon_conf() {
	local pin=$PG_PIN_DIR dovecot=1
	while [ $# -gt 0 ]; do
		case $1 in
		--pin-dir) pin=$2; shift 2 ;;
		--no-dovecot-log) dovecot=0; shift ;;
		*) break ;;
		esac
	done
	local mode=${1:-tc}
	[ $# -gt 0 ] && shift
	PG_DAEMON_CONF=$PG_TMP/popgated.conf
	export PG_DAEMON_CONF
	{
		echo "# popgate e2e (tests/lib/faults.bash)"
		echo "pin_dir = $pin"
		[ "$dovecot" = 1 ] && echo "log = ${PG_DOVECOT_LOG:?no Dovecot log}"
		echo "interface = $PG_IF_RELAY $mode"
		local l
		for l in "$@"; do echo "$l"; done
	} >"$PG_DAEMON_CONF"
}

# pgf_daemon_run [WRAPPER...]: see the header. Every start writes a new
# output file ($PG_TMP/popgated.N.out), so a restarted daemon's lines are
# never confused with its predecessor's.
pgf_daemon_run() {
	[ -x "$PG_DAEMON_BIN" ] || { pg_die "$PG_DAEMON_BIN not built"; return 1; }
	[ -s "${PG_DAEMON_CONF:-}" ] || { pg_die "no PG_DAEMON_CONF (pgf_daemon_conf)"; return 1; }
	local n=1
	while [ -e "$PG_TMP/popgated.$n.out" ]; do n=$((n + 1)); done
	PG_DAEMON_OUT=$PG_TMP/popgated.$n.out
	PG_DAEMON_RC=
	export PG_DAEMON_OUT PG_DAEMON_RC
	if ! pg_daemon_launch "$@"; then
		pg_note "popgated neither running nor stopped after 15 s"
		pg_daemon_stop
		return 2
	fi
	if ! pg_alive "$PG_DAEMON_PID"; then
		wait "$PG_DAEMON_PID" 2>/dev/null && PG_DAEMON_RC=0 || PG_DAEMON_RC=$?
		rm -f "$PG_TMP/popgated.pid"
		return 1
	fi
	return 0
}

# pgf_daemon_kill9: the crash, by PID.
pgf_daemon_kill9() {
	[ -n "${PG_DAEMON_PID:-}" ] && pg_alive "$PG_DAEMON_PID" || return 1
	kill -KILL "$PG_DAEMON_PID"
	pg_wait_for 5 _pg_all_gone "$PG_DAEMON_PID" || return 1
	wait "$PG_DAEMON_PID" 2>/dev/null || true     # reap it (status 137) if ours
	rm -f "$PG_TMP/popgated.pid"
	return 0
}

pgf_out_mark() { stat -c %s "$PG_DAEMON_OUT" 2>/dev/null || echo 0; }
pgf_out_since() { tail -c +"$(($1 + 1))" "$PG_DAEMON_OUT" 2>/dev/null; }

# pgf_pin_dir NAME
pgf_pin_dir() { echo "/sys/fs/bpf/$PG_NAME_PREFIX-$PG_RUN_ID-$1"; }

# pgf_pins_remove DIR: only a pin dir of this run.
pgf_pins_remove() {
	local dir=$1
	case $dir in /sys/fs/bpf/"$PG_NAME_PREFIX-$PG_RUN_ID"*) ;; *) return 0 ;; esac
	if [ -e "/run/netns/${PG_NS_RELAY:-none}" ] && [ -d "$dir" ]; then
		pg_in "$PG_NS_RELAY" "$PG_CTL_BIN" --pin-dir "$dir" detach "$PG_IF_RELAY" >/dev/null 2>&1
	fi
	rm -rf "$dir"
	return 0
}

# pgf_dovecot_line ADDR [USER] [PROTO]: one line, no newline added.
pgf_dovecot_line() {
	local addr=$1 user=${2:-alice} proto=${3:-pop3}
	printf '%s %s-login: Info: Login: user=<%s>, method=PLAIN, rip=%s, lip=%s, mpid=%d, session=<%s>' \
		"$(LC_ALL=C date '+%b %d %H:%M:%S')" "$proto" "$user" "$addr" "$PG_RELAY4" \
		$((RANDOM + 100)) "pgf$RANDOM$RANDOM"
}

# pgf_faketime_lib: libfaketime (Debian package faketime, in
# deploy/install-deps.sh); installed here when missing, and said so.
pgf_faketime_lib() {
	local lib
	lib=$(dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketime\.so\.1$')
	if [ -z "$lib" ]; then
		pg_note "libfaketime is missing: apt-get install faketime"
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq \
			--no-install-recommends faketime >&2 ||
			{ timeout 120 apt-get update -qq >&2 &&
				DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq \
					--no-install-recommends faketime >&2; } || return 1
		lib=$(dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketime\.so\.1$')
	fi
	[ -n "$lib" ] && [ -e "$lib" ] && echo "$lib"
}

# pgf_nobody CMD...: CMD as uid/gid 65534, no supplementary groups; setpriv
# changing the uid drops every capability.
pgf_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
}

PGF_MIN_CAPS=bpf,perfmon,net_admin,setuid,setgid

# pgf_caps CAP[,CAP...]: see the header. The uid stays 0 (root's files stay
# root's); only the capability sets shrink.
pgf_caps() {
	local c=-all,+${1//,/,+}
	echo setpriv --inh-caps="$c" --ambient-caps="$c" --bounding-set="$c" --
}

# pgf_gate_reset: see the header. Idempotent; never fails.
pgf_gate_reset() {
	local pid d
	pid=$(cat "$PG_TMP/popgated.pid" 2>/dev/null || true)
	case $pid in '' | *[!0-9]*) ;; *) PG_DAEMON_PID=$pid pg_daemon_stop ;; esac
	PG_DAEMON_PID=
	pg_gate_cleanup
	if [ -s "$PG_TMP/extra-pins" ]; then
		while read -r d; do pgf_pins_remove "$d"; done <"$PG_TMP/extra-pins"
		: >"$PG_TMP/extra-pins"
	fi
	if [ -e "/run/netns/${PG_NS_RELAY:-none}" ]; then
		tc -n "$PG_NS_RELAY" qdisc del dev "$PG_IF_RELAY" clsact 2>/dev/null || true
	fi
	return 0
}

# pgf_extra_pins DIR: remember DIR for pgf_gate_reset.
pgf_extra_pins() { echo "$1" >>"$PG_TMP/extra-pins"; }

# pgf_copy_login ADDR FILE: waits (5 s at most) for Dovecot's line.
pgf_copy_login() {
	local addr=$1 file=$2 line
	pg_wait_for 5 pg_dovecot_saw_login "$addr" || return 1
	line=$(grep -E -- '-login: (Info: )?Login: ' "$PG_DOVECOT_LOG" | grep -F "rip=$addr," | tail -n 1)
	[ -n "$line" ] && printf '%s\n' "$line" >>"$file"
}

# pgf_log_writer FILE RECORD RELAY: the writer of the rotation test. One
# write(2) per whole line, O_APPEND like Dovecot and syslog daemons. Line i
# carries rip=203.0.113.i; lines are paced 2 ms apart (none from 211 on).
# Before the writer leaves a file for good it writes half a line (rip=
# 203.0.113.250..253, no newline): those must never authorize.
#   at 30   rename FILE -> FILE.1; the writer keeps writing to FILE.1
#   at 50   (partial .250) FILE created; the writer switches to it
#   at 80   50 ms pause, then lines 80..89 back to back, (partial .251),
#           then FILE copied to FILE.2 and truncated (copytruncate)
#   at 130  FILE deleted; the writer keeps writing to the deleted file
#   at 150  (partial .252) FILE created again; the writer switches to it
#   at 180  FILE renamed to FILE.3 and a new FILE created at once, but the
#           writer goes on writing to FILE.3 (logrotate's create, before the
#           server's postrotate HUP) ...
#   at 195  (partial .253) ... and switches to the new FILE
#   at 215  FILE renamed to FILE.4, new FILE, writer switches: no pause
# RECORD gets "L i" after line i was written, "E name" after each event,
# "R i" for lines 80..89: written with no pause before the truncation.
pgf_log_writer() {
	perl -e '
use strict; use warnings; use Fcntl; use POSIX qw(strftime); use Time::HiRes qw(sleep);
my ($path, $rec_path, $relay) = @ARGV;
open(my $rec, ">", $rec_path) or die "$rec_path: $!\n";
$rec->autoflush(1);
sub open_log { sysopen(my $fh, $path, O_WRONLY | O_APPEND | O_CREAT, 0644) or die "$path: $!\n"; $fh }
sub put { my ($fh, $s) = @_; my $n = syswrite($fh, $s); die "write: $!\n" unless defined $n && $n == length $s }
sub line {
	my ($host) = @_;
	sprintf("%s pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=203.0.113.%d, lip=%s, mpid=%d, session=<pgfw%05d>",
		strftime("%b %d %H:%M:%S", localtime), $host, $relay, 1000 + $host, $host);
}
sub partial { my ($fh, $host) = @_; my $l = line($host); put($fh, substr($l, 0, length($l) - 20)) }
sub ev { print $rec "E $_[0]\n" }
my $fh = open_log();
my $next;
for my $i (1 .. 240) {
	if ($i == 30) { rename($path, "$path.1") or die; ev("rename") }
	elsif ($i == 50) { partial($fh, 250); $fh = open_log(); ev("create") }
	elsif ($i == 80) { sleep 0.05 }
	elsif ($i == 90) {
		partial($fh, 251);
		open(my $in, "<", $path) or die; open(my $out, ">", "$path.2") or die;
		local $/; print $out scalar(<$in>); close $out; close $in;
		truncate($path, 0) or die; ev("copytruncate");
	}
	elsif ($i == 130) { unlink($path) or die; ev("delete") }
	elsif ($i == 150) { partial($fh, 252); $fh = open_log(); ev("recreate") }
	elsif ($i == 180) { rename($path, "$path.3") or die; $next = open_log(); ev("rename+create") }
	elsif ($i == 195) { partial($fh, 253); $fh = $next; ev("switch") }
	elsif ($i == 215) { rename($path, "$path.4") or die; $fh = open_log(); ev("rename+create+switch") }
	put($fh, line($i) . "\n");
	print $rec (($i >= 80 && $i < 90) ? "R" : "L"), " $i\n";
	sleep 0.002 if $i <= 210 && !($i >= 80 && $i < 90);
}
' "$@"
}
