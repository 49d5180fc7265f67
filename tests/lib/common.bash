# shellcheck shell=bash
# common.bash - shared basics for popgate's end-to-end helpers.
#
# Sourced by the other tests/lib/*.bash files (each sources this one itself),
# by bats suites (`load ../lib/netns` ...) and by tests/demo.sh. Nothing here
# starts anything; it only defines paths, names and small utilities.
#
# Every name a run creates (namespaces, temp dir, pin dir) carries the run id
# PG_RUN_ID = <pid of the owning shell>-<random>, so suites run side by side,
# and pg_sweep_stale can tell a leftover of a dead run from a live one.

[ -n "${_PG_COMMON_LOADED:-}" ] && return 0
_PG_COMMON_LOADED=1

PG_ROOT=${PG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PG_BUILD=${PG_BUILD:-${BUILD:-$PG_ROOT/build}}
case $PG_BUILD in /*) ;; *) PG_BUILD=$PG_ROOT/$PG_BUILD ;; esac
PG_CONNECT_TIMEOUT=${PG_CONNECT_TIMEOUT:-2}   # seconds: the gate drops SYNs silently
PG_NAME_PREFIX=pge2e                          # namespaces, temp and pin dirs
export PG_ROOT PG_BUILD PG_CONNECT_TIMEOUT

# pg_run_init: set PG_RUN_ID and PG_TMP (a 0755 temp dir: daemons running
# as postfix/dovenull/nobody must traverse it) once per run. Idempotent; the
# values are exported so bats tests and subshells share them.
pg_run_init() {
	if [ -z "${PG_RUN_ID:-}" ]; then
		PG_RUN_ID="$$-$(printf '%04x' $((RANDOM % 65536)))"
		export PG_RUN_ID
	fi
	if [ -z "${PG_TMP:-}" ] || [ ! -d "$PG_TMP" ]; then
		PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$PG_NAME_PREFIX-$PG_RUN_ID.XXXX") || return 1
		chmod 0755 "$PG_TMP"
		export PG_TMP
	fi
}

# pg_note MSG...: diagnostics on stderr (bats shows it when a test fails).
pg_note() { echo "# $*" >&2; }

# pg_die MSG...: note and fail.
pg_die() { pg_note "ERROR: $*"; return 1; }

# pg_in NS CMD...: run CMD in network namespace NS, keeping the host's mount
# namespace (unlike `ip netns exec`, which remounts /sys and hides
# /sys/fs/bpf, so pins made or read there would be lost).
pg_in() {
	local ns=$1; shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# pg_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds or
# SECONDS have passed (then return 1). Always bounded.
pg_wait_for() {
	local limit=$1; shift
	local end=$((SECONDS + limit))
	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# pg_listening NS PORT: something listens on TCP PORT in namespace NS.
pg_listening() {
	pg_in "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .
}

# pg_descendants PID: PIDs of all descendants of PID (from /proc, no pgrep).
pg_descendants() {
	local root=$1 pid ppid changed=1 stat
	local -A tree=([$root]=1)
	local -a all=()
	for stat in /proc/[0-9]*/stat; do
		read -r stat 2>/dev/null <"$stat" || continue
		pid=${stat%% *}
		stat=${stat##*) }           # after "comm)": "S PPID ..."
		stat=${stat#* }
		ppid=${stat%% *}
		all+=("$pid:$ppid")
	done
	while [ "$changed" = 1 ]; do
		changed=0
		for stat in "${all[@]}"; do
			pid=${stat%%:*} ppid=${stat##*:}
			if [ -n "${tree[$ppid]:-}" ] && [ -z "${tree[$pid]:-}" ]; then
				tree[$pid]=1 changed=1
			fi
		done
	done
	unset "tree[$root]"
	echo "${!tree[@]}"
}

# pg_alive PID: the process exists and is not a zombie.
pg_alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

_pg_all_gone() {
	local q
	for q in "$@"; do pg_alive "$q" && return 1; done
	return 0
}

# pg_kill_tree PID [SECONDS]: stop PID and everything it started. The list
# of descendants is taken before the signal (daemons' children are
# reparented when the master exits); TERM, wait up to SECONDS (default 5),
# then KILL whatever is left. Only these PIDs are ever signalled.
pg_kill_tree() {
	local pid=$1 limit=${2:-5} p kids
	[ -n "$pid" ] || return 0
	pg_alive "$pid" || return 0
	kids=$(pg_descendants "$pid")
	# it may end on its own between the check and the signal
	kill -TERM "$pid" 2>/dev/null || true
	# shellcheck disable=SC2086
	if ! pg_wait_for "$limit" _pg_all_gone "$pid" $kids; then
		for p in $pid $kids; do
			pg_alive "$p" && { kill -KILL "$p" 2>/dev/null || true; }
		done
		# shellcheck disable=SC2086
		pg_wait_for 2 _pg_all_gone "$pid" $kids
	fi
	return 0
}

# _pg_starttime PID: field 22 of /proc/PID/stat (identifies PID + its start).
_pg_starttime() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	# shellcheck disable=SC2086
	set -- $st
	echo "${20}"
}

# pg_bg_register PID: remember a background process this run started, so
# pg_bg_kill_all can stop it from another process (a bats teardown_file runs
# in a different shell than the test that started it). Recorded with its
# start time, so a recycled PID is never signalled.
pg_bg_register() {
	[ -n "${PG_TMP:-}" ] || return 0
	echo "$1 $(_pg_starttime "$1")" >>"$PG_TMP/bg.pids"
}

# pg_bg_kill_all: stop every registered process still running (and its
# descendants).
pg_bg_kill_all() {
	local pid start
	[ -n "${PG_TMP:-}" ] && [ -s "$PG_TMP/bg.pids" ] || return 0
	while read -r pid start; do
		[ -n "$start" ] && [ "$(_pg_starttime "$pid")" = "$start" ] || continue
		pg_kill_tree "$pid" 3
	done <"$PG_TMP/bg.pids"
	: >"$PG_TMP/bg.pids"
}

# pg_tls_cert DIR: self-signed RSA cert + key for relay.popgate.test in
# DIR/cert.pem and DIR/key.pem (made once per DIR).
pg_tls_cert() {
	local dir=$1
	[ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ] && return 0
	mkdir -p "$dir"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=relay.popgate.test" \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 ||
		pg_die "openssl could not make a self-signed certificate in $dir" || return 1
	chmod 0644 "$dir/cert.pem"
	chmod 0600 "$dir/key.pem"
}

# pg_json PERL_EXPR: evaluate PERL_EXPR with $j = the JSON read on stdin
# (perl's core JSON::PP: no jq or python needed). Prints the result.
#   popgatectl stats --json | pg_json '$j->{drop_unauthorized}'
pg_json() {
	perl -MJSON::PP -e '
		local $/; my $in = <STDIN>;
		my $j = eval { JSON::PP->new->allow_nonref->decode($in) };
		die "pg_json: not JSON: $in\n" unless defined $j or $in =~ /^\s*null\s*$/;
		my $r = eval $ARGV[0]; die $@ if $@;
		print ref($r) ? JSON::PP->new->canonical->encode($r) : (defined $r ? $r : ""), "\n";
	' "$1"
}

# pg_run_cleanup: remove PG_TMP (kept when PG_KEEP_TMP=1, for a post-mortem).
# Call it last, after the daemons are stopped.
pg_run_cleanup() {
	[ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP" ] || return 0
	pg_bg_kill_all
	if [ "${PG_KEEP_TMP:-0}" = 1 ]; then
		pg_note "keeping $PG_TMP (PG_KEEP_TMP=1)"
	else
		case $PG_TMP in */"$PG_NAME_PREFIX"-*) rm -rf "$PG_TMP" ;; esac
	fi
	return 0
}

# _pg_owner_dead NAME: NAME is pge2e-PID-... and PID no longer exists.
_pg_owner_dead() {
	local pid=${1#"$PG_NAME_PREFIX"-}
	pid=${pid%%-*}
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	! kill -0 "$pid" 2>/dev/null
}

# pg_sweep_stale: remove leftovers of crashed runs (their owner PID, part of
# every name, is gone): daemons whose working directory is in a stale temp
# dir (Postfix's master runs in its queue dir, Dovecot's in its base_dir),
# then the temp dirs, namespaces pge2e-PID-* and pin dirs
# /sys/fs/bpf/pge2e-PID-*. Never touches anything of a live run.
pg_sweep_stale() {
	local ns d pf pid cwd
	for d in "${TMPDIR:-/tmp}"/"$PG_NAME_PREFIX"-*; do
		[ -d "$d" ] && _pg_owner_dead "${d##*/}" || continue
		for pf in "$d/postfix/spool/pid/master.pid" "$d/dovecot/run/master.pid" \
			"$d/popgated.pid"; do
			[ -s "$pf" ] || continue
			read -r pid <"$pf"; pid=${pid// /}
			case $pid in '' | *[!0-9]*) continue ;; esac
			cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null)
			case "$cwd $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" in
			*"$d"*) pg_note "stopping stale process $pid of $d"; pg_kill_tree "$pid" 3 ;;
			esac
		done
		PG_TMP=$d pg_bg_kill_all
		pg_note "removing stale temp dir $d"
		rm -rf "$d"
	done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in "$PG_NAME_PREFIX"-*) ;; *) continue ;; esac
		_pg_owner_dead "$ns" || continue
		pg_note "removing stale namespace $ns"
		ip netns del "$ns" 2>/dev/null
	done
	for d in /sys/fs/bpf/"$PG_NAME_PREFIX"-*; do
		[ -d "$d" ] && _pg_owner_dead "${d##*/}" || continue
		pg_note "removing stale pin dir $d"
		rm -rf "$d"
	done
	return 0
}
