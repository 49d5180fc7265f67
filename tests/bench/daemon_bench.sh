#!/bin/bash
# daemon_bench.sh - popgated's own figures: `make bench-daemon` (full) and
# `make bench-daemon-smoke`. Method and results: tests/bench/DAEMON.md.
#
#   tests/bench/daemon_bench.sh full|smoke
#
# 1. Login throughput: gen_maillog writes a mixed mail log (mostly Postfix,
#    3% logins of every server, 5% their other lines); bench_parse reads it
#    through popgated's file source and parser and checks it finds exactly
#    the logins written; fail2ban-regex reads a slice of the same file.
# 2. Login-to-gate latency, write of a login line -> entry in the pinned map:
#    a real popgated following a file; a real popgated reading the system
#    journal, written by journal-remote and by a real journald, both in a
#    private mount namespace; a 1-second polling tail (inside bench_latency).
# 3. Memory: popgated's RSS idle and after max-size fill, the map's kernel
#    memory (fdinfo and bpftool), and the rate at which the daemon got there;
#    then the file latency of that full daemon while it sweeps every 10 s.
# Prints a table; writes $BUILD/bench/daemon.json (smoke: daemon-smoke.json).
# Every step has a time bound. smoke uses tiny counts, judges no timing and
# installs nothing (a part whose tool is missing is skipped); full installs
# what it lacks with apt-get. Exit status 1 when a correctness check failed
# (logins miscounted, a login never reached the map, entries missing).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
export BUILD
bin=$BUILD/bench
popgated=$BUILD/popgated
fixtures=$root/tests/fixtures/logins
JOURNAL_REMOTE=/lib/systemd/systemd-journal-remote
JOURNALD=/lib/systemd/systemd-journald

say() { echo "bench-daemon: $*" >&2; }

# Start a daemon in the background (not in a subshell: it stays our child);
# its pid goes to bg_pid and to PIDFILE, from which the EXIT trap stops it
# whatever happens.
start_bg() { # PIDFILE LOG CMD...
	local pidfile=$1 log=$2
	shift 2
	"$@" >>"$log" 2>&1 &
	bg_pid=$!
	echo "$bg_pid" >>"$pidfile"
}

# TERM, then KILL after 5 s; only pids this script started.
stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

stop_all() { # PIDFILE: newest first
	[ -f "$1" ] || return 0
	for pid in $(tac "$1"); do stop_pid "$pid"; done
	: >"$1"
}

# A popgated configuration: no interface (the maps are made anyway), the
# sweep out of the way of the measurements, only errors logged.
write_conf() { # FILE PIN_DIR MAX_ENTRIES SOURCE_LINE
	cat >"$1" <<EOF
pin_dir = $2
$4
window = 90m
max_entries = $3
sweep_interval = 1h
log_level = error
EOF
}

# LAT_CPU=N: the writer (bench_latency) runs on CPU N only.
latency() { # MODE PREFIX N GAP TIMEOUT_MS BOUND_S LINES ARGS... (LINES: $work/LINES.{lines,exp})
	local mode=$1 prefix=$2 n=$3 gap=$4 tmo=$5 bound=$6 lines=$7
	shift 7
	timeout "$bound" ${LAT_CPU:+taskset -c "$LAT_CPU"} "$bin/bench_latency" "$mode" \
		-L "$work/$lines.lines" -E "$work/$lines.exp" \
		-n "$n" -g "$gap" -t "$tmo" -m "$prefix" "$@" >>"$metrics"
}

# Journal files as Debian's tmpfiles.d leave them: the directory setgid
# systemd-journal, so that a new file is readable by that group (popgated's
# reader is nobody in it).
journal_group() { # DIR
	getent group systemd-journal >/dev/null || return 0
	chgrp systemd-journal "$(dirname "$1")" "$1" && chmod 2755 "$(dirname "$1")" "$1"
}

# ---- inside a private mount namespace: the two journal variants ------------
# $work, $pins, $metrics and the counts come from the environment.
journal_ns() {
	local mid pidfile=$work/ns.pids
	trap 'stop_all "$work/ns.pids"' EXIT
	mid=$(cat /etc/machine-id)
	if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi

	# journal-remote writes the system journal's file and announces each
	# entry at once: what is left is popgated's own journal path.
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir -p "/run/log/journal/$mid"
	journal_group "/run/log/journal/$mid"
	write_conf "$work/jr.conf" "$pins-jr" 65536 "journal = all"
	start_bg "$pidfile" "$work/popgated.log" "$popgated" -c "$work/jr.conf"
	latency journal-remote latency.journal_remote "$JR_N" "$LAT_GAP" 2000 120 lat \
		-p "$bg_pid" -P "$pins-jr" -J "/run/log/journal/$mid/system.journal"
	stop_all "$pidfile"
	umount /run

	# A real journald, as on a Debian host: it tells readers about a new
	# entry only when its post-change timer fires, 250 ms after the entry
	# plus up to 250 ms of sd-event's default timer slack. Logins are
	# written further apart than that so each is seen on its own.
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir -p /run/systemd/journal "/run/log/journal/$mid"
	journal_group "/run/log/journal/$mid"
	printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToWall=no\nRateLimitBurst=0\n' \
		>"$work/journald.conf"
	mount --bind "$work/journald.conf" /etc/systemd/journald.conf
	start_bg "$pidfile" "$work/journald.log" "$JOURNALD"
	for _ in $(seq 100); do
		[ -S /run/systemd/journal/socket ] && [ -f "/run/log/journal/$mid/system.journal" ] && break
		sleep 0.05
	done
	if ! [ -f "/run/log/journal/$mid/system.journal" ]; then
		say "    journald did not start, skipped: $(tail -2 "$work/journald.log")"
		return 0
	fi
	write_conf "$work/jd.conf" "$pins-jd" 65536 "journal = all"
	start_bg "$pidfile" "$work/popgated.log" "$popgated" -c "$work/jd.conf"
	latency journald latency.journald "$JD_N" "$JD_GAP" 3000 120 lat -p "$bg_pid" -P "$pins-jd"
	stop_all "$pidfile"
	umount /etc/systemd/journald.conf
	umount /run
}

if [ "${1:-}" = __journal ]; then
	journal_ns
	exit 0
fi

# ---- setup ---------------------------------------------------------------------
mode=${1:-}
case $mode in
full)
	PARSE_LINES=1000000 PARSE_REPS=5 F2B_LINES=200000
	LAT_N=10000 LAT_GAP=500:1500 JR_N=10000 JD_N=50 JD_GAP=550000:750000
	POLL_N=300 POLL_GAP=10000:50000 MEM_LOGINS=1000000 MEM_MAX=1048576 SWEEP_N=2000
	json=$bin/daemon.json ;;
smoke)
	PARSE_LINES=20000 PARSE_REPS=1 F2B_LINES=2000
	LAT_N=200 LAT_GAP=500:1500 JR_N=200 JD_N=3 JD_GAP=550000:750000
	POLL_N=5 POLL_GAP=100000:300000 MEM_LOGINS=20000 MEM_MAX=65536 SWEEP_N=20
	json=$bin/daemon-smoke.json ;;
*) echo "usage: $0 full|smoke" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { say "needs root (BPF maps, mount namespaces)"; exit 1; }
for p in gen_maillog bench_parse bench_latency; do
	[ -x "$bin/$p" ] || { say "$bin/$p missing: run make bench-daemon"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/pgd-bench.XXXXXX")
# popgated's log reader runs as nobody (reader_user): it must reach the logs.
chmod 0755 "$work"
pins=/sys/fs/bpf/pgd-bench-$$
pidfile=$work/pids
metrics=$work/metrics
: >"$metrics"
# The namespace's own trap stops what it started; this one too, in case it
# was killed first.
trap 'stop_all "$pidfile"; stop_all "$work/ns.pids"; rm -rf "$pins"-* "$work"' EXIT
trap 'exit 130' INT TERM
export work pins metrics JR_N JD_N LAT_GAP JD_GAP

# bpffs: systemd mounts it on a normal host; nothing does in a bare container.
if ! mount | grep -q ' /sys/fs/bpf type bpf '; then
	mount -t bpf bpf /sys/fs/bpf
	say "mounted bpffs at /sys/fs/bpf (it was not mounted)"
fi

# What the comparisons need: PACKAGE:FILE. full installs, smoke skips.
need="fail2ban:/usr/bin/fail2ban-regex systemd-journal-remote:$JOURNAL_REMOTE
      systemd:$JOURNALD util-linux:/usr/bin/unshare bpftool:/usr/sbin/bpftool"
missing=""
for pf in $need; do [ -x "${pf#*:}" ] || missing="$missing ${pf%%:*}"; done
if [ -n "$missing" ] && [ "$mode" = full ]; then
	say "installing$missing"
	# No service started by a package script (fail2ban's would be).
	own_policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		own_policy=1
	fi
	# shellcheck disable=SC2086
	if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$missing >&2; }; then
		say "apt-get failed: the parts needing$missing are skipped"
	fi
	[ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d
fi
has() { [ -x "$1" ]; }

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
busy=$(awk '$1 > 0.5 { print "yes" }' /proc/loadavg)
if [ -n "$busy" ]; then
	say "load average $loadavg: the machine is not idle; tail latencies will show it"
fi

# ---- 1. login throughput --------------------------------------------------------
say "1/4 login throughput: $PARSE_LINES-line mixed mail log"
"$bin/gen_maillog" -n "$PARSE_LINES" -s 1 -o "$work/mail.log" -e "$work/mail.exp" "$fixtures"/*.log
timeout 300 "$bin/bench_parse" -r "$PARSE_REPS" "$work/mail.log" "$work/mail.exp" >>"$metrics"

# fail2ban-regex: the same logins, one failregex per server (the work
# popgated does), and Dovecot's alone (the usual setup, and the yardstick's).
f2b() { # NAME FILTER_LINES...
	local name=$1 out=$work/f2b-$1.out filter=$work/f2b-$1.conf lines matched secs
	shift
	{ echo "[Definition]"; printf 'failregex = %s\n' "$1"; shift
	  for r in "$@"; do printf '            %s\n' "$r"; done; } >"$filter"
	timeout 120 fail2ban-regex "$work/slice.log" "$filter" >"$out" 2>&1 ||
		{ say "fail2ban-regex ($name) failed: $(tail -3 "$out")"; return 0; }
	lines=$(sed -n 's/^Lines: \([0-9]*\) lines.*/\1/p' "$out")
	matched=$(sed -n 's/^Lines: .* \([0-9]*\) matched.*/\1/p' "$out")
	secs=$(sed -n 's/^\[processed in \([0-9.]*\) sec\]/\1/p' "$out")
	{
		echo "metric f2b.$name.lines $lines"
		echo "metric f2b.$name.matched $matched"
		echo "metric f2b.$name.seconds $secs"
		awk -v l="$lines" -v s="$secs" -v n="$name" \
			'BEGIN { if (s > 0) printf "metric f2b.%s.lines_per_s %.1f\n", n, l / s }'
	} >>"$metrics"
}
if has /usr/bin/fail2ban-regex; then
	say "    fail2ban-regex on the first $F2B_LINES lines"
	head -n "$F2B_LINES" "$work/mail.log" >"$work/slice.log"
	awk -F'\t' -v n="$F2B_LINES" '$1 <= n { c++ } END { print "metric f2b.expected", c + 0 }' \
		"$work/mail.exp" >>"$metrics"
	dovecot='(?:pop3|imap)-login: (?:Info: )?Login: user=<.*>, method=\S+, rip=<HOST>, lip=\S+(?:, mpid=\d+)?(?:, (?:TLS|secured|TLS handshaking))?(?:, session=<[^>]*>)?$'
	f2b all "$dovecot" \
		'\bLOGIN, user=.*, ip=\[(?:::ffff:)?<HOST>\](?:, port=\[\d+\])?(?:, protocol=\w+)?(?:, stls=1)?$' \
		'\blogin: (?:\S+ )?\[<HOST>\] .* \S+ User logged in(?: SESSIONID=<[^>]*>)?$' \
		'\b(?:Login|Admin Login|Authenticated|Auth|APOP) user=.* host=(?:\S+ )?\[(?:::ffff:)?<HOST>\](?: mech=\S+| nmsgs=\d+/\d+| no mailbox)?$' \
		'\bPOP login by user ".*" at \(.*\) <HOST>(?: \[\S+:\d+\])?$'
	f2b dovecot "$dovecot"
else
	say "    fail2ban-regex: skipped (fail2ban not installed)"
fi

# ---- 2. latency -------------------------------------------------------------------
say "2/4 login-to-gate latency"
# Dovecot's lines (Debian's default server) for every variant, so they
# differ only in how the line travels; one distinct address per login.
"$bin/gen_maillog" -n $((LAT_N > JR_N ? LAT_N + 100 : JR_N + 100)) -p 1000 -q 0 -d -s 2 \
	-o "$work/lat.lines" -e "$work/lat.exp" "$fixtures/dovecot-trad.log" 2>/dev/null

say "    file: popgated follows a log file (inotify), $LAT_N logins"
: >"$work/file.log"
write_conf "$work/file.conf" "$pins-file" 65536 "log = $work/file.log"
start_bg "$pidfile" "$work/popgated.log" "$popgated" -c "$work/file.conf"
latency file latency.file "$LAT_N" "$LAT_GAP" 2000 120 lat -p "$bg_pid" -P "$pins-file" -l "$work/file.log"
stop_all "$pidfile"

# The same daemon with both halves on one CPU (what CPUAffinity= in the unit
# does): against the row above, which follows the reader's CPU, a fixed CPU
# makes the writer wake the reader across CPUs (on a VM, a halted vCPU).
cpu_last=$(($(nproc) - 1))
say "    file, popgated on CPU $cpu_last only, $LAT_N logins"
: >"$work/file1.log"
write_conf "$work/file1.conf" "$pins-file1" 65536 "log = $work/file1.log"
start_bg "$pidfile" "$work/popgated.log" taskset -c "$cpu_last" "$popgated" -c "$work/file1.conf"
latency file latency.file_one_cpu "$LAT_N" "$LAT_GAP" 2000 120 lat -p "$bg_pid" -P "$pins-file1" \
	-l "$work/file1.log"
stop_all "$pidfile"

# And the writer on that CPU too: no wake-up crosses vCPUs. What the two
# rows above have more than this one is the machine's wake-up of an idle
# vCPU; what this one has more than the floor is popgated's own work.
say "    file, popgated and the writer on CPU $cpu_last only, $LAT_N logins"
: >"$work/file2.log"
write_conf "$work/file2.conf" "$pins-file2" 65536 "log = $work/file2.log"
start_bg "$pidfile" "$work/popgated.log" taskset -c "$cpu_last" "$popgated" -c "$work/file2.conf"
LAT_CPU=$cpu_last latency file latency.file_all_one_cpu "$LAT_N" "$LAT_GAP" 2000 120 lat \
	-p "$bg_pid" -P "$pins-file2" -l "$work/file2.log"
stop_all "$pidfile"

# The same logins through the least any inotify reader can do (one
# process, no event loop, one map update): what is left there is the
# machine's; popgated's row minus it is popgated's own design.
say "    floor: one process, inotify, pread, one map update, $LAT_N logins"
: >"$work/floor.log"
latency floor latency.floor "$LAT_N" "$LAT_GAP" 2000 120 lat -P "$pins-floor" -l "$work/floor.log"

say "    poll: a 1-second polling tail, $POLL_N logins"
: >"$work/poll.log"
latency poll latency.poll_1s "$POLL_N" "$POLL_GAP" 3000 120 lat -P "$pins-poll" -l "$work/poll.log"

if has "$JOURNAL_REMOTE" && has "$JOURNALD" && has /usr/bin/unshare && [ -s /etc/machine-id ]; then
	say "    journal: popgated reads the system journal (private mount namespace),"
	say "    written by journal-remote ($JR_N logins) and by journald ($JD_N logins)"
	unshare -m --propagation private "$here/daemon_bench.sh" __journal
else
	say "    journal: skipped (needs $JOURNAL_REMOTE, $JOURNALD, unshare, /etc/machine-id)"
fi

# ---- 3. memory --------------------------------------------------------------------
say "3/4 memory: $MEM_LOGINS distinct logins into a popgated with max_entries $MEM_MAX"
"$bin/gen_maillog" -n "$MEM_LOGINS" -p 1000 -q 0 -d -s 3 -o "$work/mem.lines" \
	-e "$work/mem.exp" "$fixtures"/*.log 2>/dev/null
: >"$work/mem.log"
write_conf "$work/mem.conf" "$pins-mem" "$MEM_MAX" "log = $work/mem.log"
start_bg "$pidfile" "$work/popgated.log" "$popgated" -c "$work/mem.conf"
timeout 300 "$bin/bench_latency" fill -P "$pins-mem" -L "$work/mem.lines" -E "$work/mem.exp" \
	-l "$work/mem.log" -p "$bg_pid" -t 240000 -m memory >>"$metrics"
if has /usr/sbin/bpftool; then
	bpftool -j map show pinned "$pins-mem/gate_auth" |
		sed -n 's/.*"bytes_memlock":\([0-9]*\).*/metric memory.bpftool_memlock_bytes \1/p' >>"$metrics"
fi

# The same daemon, now full, with its sweep every 10 s (reloaded with SIGHUP):
# the sweep walks every entry in the event loop, and logins wait meanwhile.
# 100 logins a second, each given 30 s: the row shows how long they wait.
say "    file latency at $MEM_LOGINS entries with sweep_interval = 10s, $SWEEP_N logins"
"$bin/gen_maillog" -n $((SWEEP_N + 100)) -p 1000 -q 0 -d -a 100000000 -s 4 -o "$work/sweep.lines" \
	-e "$work/sweep.exp" "$fixtures/dovecot-trad.log" 2>/dev/null
sed -i 's/^sweep_interval = .*/sweep_interval = 10s/' "$work/mem.conf"
kill -HUP "$bg_pid"
latency file latency.file_full_sweeping "$SWEEP_N" 5000:15000 30000 120 sweep -p "$bg_pid" \
	-P "$pins-mem" \
	-l "$work/mem.log"
stop_all "$pidfile"

# ---- 4. report ----------------------------------------------------------------------
say "4/4 report"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
# shellcheck disable=SC1091
os=$(. /etc/os-release && echo "$PRETTY_NAME")
mkdir -p "$bin"
awk -v mode="$mode" -v json="$json" -v kernel="$(uname -r)" -v cpu="$cpu" -v os="$os" \
	-v ncpu="$(nproc)" -v mem="$(awk '/MemTotal/ { print $2 }' /proc/meminfo)" \
	-v loadavg="$loadavg" -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	-f "$here/daemon_report.awk" "$metrics"
