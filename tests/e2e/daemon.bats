#!/usr/bin/env bats
# daemon.bats - popgated end to end: a real Dovecot writes its log, a real
# client logs in with curl, popgated authorizes the address, and a real
# Postfix takes (or never sees) the client's mail.
#
# Same world as gate.bats (tests/lib/e2e.bash): client 192.0.2.1 /
# 2001:db8::1 (+ 198.51.100.7), relay 192.0.2.25 / 2001:db8::25 with Postfix
# (25, 2525, 465) and Dovecot (110, 143, 993, 995, log_path in the run's temp
# dir); popgated follows that log and holds the gate on the relay's veth.
#
#   bats tests/e2e/daemon.bats            (root; after make)

bats_require_minimum_version 1.5.0
load ../lib/e2e

setup_file() {
	export PG_CONNECT_TIMEOUT=2
	pg_e2e_up || { pg_e2e_dump; pg_e2e_down; return 1; }
	pg_daemon_start native || { pg_e2e_dump; pg_e2e_down; return 1; }
}

teardown_file() {
	pg_e2e_down
}

setup() {
	# a test that restarted the daemon ran in its own shell: the pid file knows
	PG_DAEMON_PID=$(cat "$PG_TMP/popgated.pid" 2>/dev/null || true)
	pg_alive "${PG_DAEMON_PID:-0}" || pg_daemon_start native
	pg_gate_flush_all
}

teardown() {
	pg_e2e_on_failure
	# a test that ran the daemon with its own settings: setup starts it anew
	case $BATS_TEST_DESCRIPTION in "the sweeper"*) pg_daemon_stop ;; esac
}

cpus_of() { awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$1/status"; }
cpus_are() { [ "$(cpus_of "$1")" = "$2" ]; }
reader_restarts_above() { [ "$(grep -c 'the log reader runs again' "$PG_DAEMON_OUT")" -gt "$1" ]; }

screen_empty() { [ "$(pg_ctl status --json | pg_json '$j->{screen_bits}')" -eq 0 ]; }
screen_size_is() { [ "$(pg_ctl status --json | pg_json '$j->{screen_size}')" -eq "$1" ]; }

token() { echo "tok-d$BATS_TEST_NUMBER-$1-$RANDOM$RANDOM"; }

# delivered HOST PORT [opts]: a message goes through and reaches the mailbox
delivered() {
	local host=$1 port=$2 t; shift 2
	t=$(token "$port")
	pg_smtp_send "$@" "$host" "$port" "$t" && pg_mail_delivered "$t" 10 >/dev/null
}

# refused HOST [opts]: every gated port times out
refused() {
	local host=$1; shift
	pg_tcp_blocked "$@" "$host" 25 2525
}

@test "before any login, SMTP on 25 and 2525 is refused (IPv4 and IPv6)" {
	refused "$PG_RELAY4"
	refused "$PG_RELAY6"
}

@test "a failed POP3 login authorizes nothing" {
	# from the second address: Dovecot slows down later logins from an
	# address that failed, which would stall the other tests
	run pg_pop3_login --from "$PG_CLIENT4_ALT" "$PG_RELAY4" "$PG_POP_USER" wrong-password
	[ "$status" -ne 0 ]
	pg_wait_for 5 grep -q "auth failed.*rip=$PG_CLIENT4_ALT," "$PG_DOVECOT_LOG"
	sleep 0.3
	! pg_gate_listed "$PG_CLIENT4_ALT" || false
	refused "$PG_RELAY4" --from "$PG_CLIENT4_ALT"
}

@test "a POP3 login authorizes the client: its mail is delivered on 25 and 2525" {
	refused "$PG_RELAY4"
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	delivered "$PG_RELAY4" 25
	delivered "$PG_RELAY4" 2525
	# who and until when, as an operator sees it
	run pg_ctl list --json
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "\"addr\":\"$PG_CLIENT4\",\"user\":\"$PG_POP_USER\""
	exp=$(pg_gate_expires_in "$PG_CLIENT4")
	[ "$exp" -gt 5300 ] && [ "$exp" -le 5400 ]
}

@test "an IMAP login authorizes only the address that logged in" {
	pg_imap_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	delivered "$PG_RELAY4" 25
	# the second client address on the same host did not log in
	refused "$PG_RELAY4" --from "$PG_CLIENT4_ALT"
}

@test "an IMAP login over IPv6 (and POP3 over TLS) authorizes the IPv6 client" {
	refused "$PG_RELAY6"
	pg_imap_login "$PG_RELAY6"
	pg_daemon_wait_allowed "$PG_CLIENT6" 3
	delivered "$PG_RELAY6" 25
	pg_ctl revoke "$PG_CLIENT6"
	refused "$PG_RELAY6"
	pg_pop3_login --tls "$PG_RELAY6"
	pg_daemon_wait_allowed "$PG_CLIENT6" 3
	delivered "$PG_RELAY6" 2525
}

@test "logrotate rotates Dovecot's log (rename + create, then copytruncate): the next login still authorizes" {
	local conf=$PG_TMP/logrotate.conf state=$PG_TMP/logrotate.state
	cat >"$conf" <<-EOF
		$PG_DOVECOT_LOG {
		    rotate 3
		    create 0640 root adm
		    postrotate
		        kill -USR1 $PG_DOVECOT_PID
		    endscript
		}
	EOF
	logrotate -f -s "$state" "$conf"
	[ -e "$PG_DOVECOT_LOG.1" ]
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 5
	delivered "$PG_RELAY4" 25

	pg_ctl revoke "$PG_CLIENT4"
	sed -i -e 's/create 0640 root adm/copytruncate/' -e '/postrotate/,/endscript/d' "$conf"
	logrotate -f -s "$state" "$conf"
	[ ! -s "$PG_DOVECOT_LOG" ]
	refused "$PG_RELAY4"
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 5
	delivered "$PG_RELAY4" 25
}

@test "SIGKILL of the daemon: enforcement never lapses, authorizations survive, a restart resumes" {
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	kill -KILL "$PG_DAEMON_PID"
	pg_wait_for 5 bash -c "! kill -0 $PG_DAEMON_PID 2>/dev/null"
	# no daemon: strangers stay out, the authorized client still sends
	refused "$PG_RELAY4" --from "$PG_CLIENT4_ALT"
	delivered "$PG_RELAY4" 25
	run pg_ctl_in_relay status --json
	echo "$output" | grep -q '"active":true'
	# a login while it is down is not seen ... until it runs again
	pg_daemon_start native
	pg_gate_listed "$PG_CLIENT4"
	pg_imap_login "$PG_RELAY6"
	pg_daemon_wait_allowed "$PG_CLIENT6" 3
	delivered "$PG_RELAY6" 2525
}

@test "an authorization expires in the kernel while the daemon is stopped" {
	pg_daemon_stop
	pg_ctl allow "$PG_CLIENT4" --for 2s
	delivered "$PG_RELAY4" 25
	sleep 2.5
	refused "$PG_RELAY4"
	# stopped with TERM, the gate stays attached
	run pg_ctl_in_relay status --json
	echo "$output" | grep -q '"active":true'
}

@test "the sweeper deletes an expired authorization and rebuilds the screen without its bit" {
	pg_daemon_stop
	pg_daemon_start native "window = 2s" "sweep_interval = 1s"
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	[ "$(pg_ctl status --json | pg_json '$j->{screen_bits}')" -eq 1 ]
	delivered "$PG_RELAY4" 25
	# expired after 2 s, swept within the next second, bits rebuilt with it
	pg_wait_for 6 screen_empty
	run ! pg_gate_listed "$PG_CLIENT4"
	refused "$PG_RELAY4"
}

@test "the sweeper sizes the screen for the authorizations present: 2^16 bits, 2^18 for 9,000, 2^16 again when they expired" {
	pg_daemon_stop
	pg_daemon_start native "window = 5s" "sweep_interval = 1s"
	screen_size_is 65536
	# 9,000 logins of distinct addresses in one write, as a burst would come
	awk -v t="$(LC_ALL=C date '+%b %d %H:%M:%S')" -v lip="$PG_RELAY4" 'BEGIN {
		for (i = 1; i <= 9000; i++)
			printf "%s pop3-login: Info: Login: user=<bulk>, method=PLAIN, rip=2001:db8:5ee::%x, lip=%s, mpid=%d, session=<pgsz%05d>\n", t, i, lip, 1000 + i, i
	}' >>"$PG_DOVECOT_LOG"
	# 9,000 keys in 2^16 bits is 7 a key, under the 8 kept: the next sweep resizes
	pg_wait_for 4 screen_size_is 262144
	[ "$(pg_ctl status --json | pg_json '$j->{authorized}')" -eq 9000 ]
	[ "$(pg_ctl status --json | pg_json '$j->{screen_bits}')" -le 9000 ]
	pg_gate_listed 2001:db8:5ee::2328
	pg_wait_for 10 screen_size_is 65536
	screen_empty
}

@test "SIGHUP with a broken config: reported, and the running config stays in force" {
	local conf=$PG_DAEMON_CONF
	cp "$conf" "$conf.good"
	echo "window = 90 minutes" >>"$conf"
	kill -HUP "$PG_DAEMON_PID"
	pg_wait_for 5 grep -q "reload failed" "$PG_DAEMON_OUT"
	grep -qE "popgated.conf:[0-9]+: window" "$PG_DAEMON_OUT"
	pg_alive "$PG_DAEMON_PID"
	refused "$PG_RELAY4"
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	delivered "$PG_RELAY4" 25
	mv "$conf.good" "$conf"
}

@test "SIGHUP with a good config applies it without a lapse: a new trusted prefix passes" {
	local conf=$PG_DAEMON_CONF
	cp "$conf" "$conf.good"
	refused "$PG_RELAY4" --from "$PG_CLIENT4_ALT"
	echo "trust = $PG_CLIENT4_ALT_NET" >>"$conf"
	kill -HUP "$PG_DAEMON_PID"
	pg_wait_for 10 grep -q "reloaded" "$PG_DAEMON_OUT"
	delivered "$PG_RELAY4" 25 --from "$PG_CLIENT4_ALT"
	refused "$PG_RELAY4"
	# and taking it out again removes it
	mv "$conf.good" "$conf"
	kill -HUP "$PG_DAEMON_PID"
	pg_wait_for 10 bash -c "[ \$(grep -c reloaded '$PG_DAEMON_OUT') -ge 2 ]"
	refused "$PG_RELAY4" --from "$PG_CLIENT4_ALT"
}

@test "popgated --check reports a bad file as FILE:LINE and attaches nothing" {
	local bad=$PG_TMP/bad.conf pin=/sys/fs/bpf/pge2e-$PG_RUN_ID-check
	printf 'pin_dir = %s\nlog = relative.log\nports = 25,25\n' "$pin" >"$bad"
	run "$PG_DAEMON_BIN" --check -c "$bad"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$bad:2: "* ]]
	[[ "$output" == *"$bad:3: "* ]]
	run "$PG_DAEMON_BIN" -c "$bad"
	[ "$status" -eq 1 ]
	[ ! -e "$pin" ]
}

@test "the relay interface deleted and re-created: popgated attaches the gate again" {
	local c=$PG_NS_CLIENT r=$PG_NS_RELAY
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	ip -n "$r" link del "$PG_IF_RELAY"
	pg_wait_for 5 grep -q "interface went away" "$PG_DAEMON_OUT"
	ip link add "$PG_IF_CLIENT" netns "$c" type veth peer name "$PG_IF_RELAY" netns "$r"
	ip -n "$c" addr add "$PG_CLIENT4/24" dev "$PG_IF_CLIENT"
	ip -n "$c" addr add "$PG_CLIENT4_ALT/32" dev "$PG_IF_CLIENT"
	ip -n "$r" addr add "$PG_RELAY4/24" dev "$PG_IF_RELAY"
	pg_in "$r" ethtool -K "$PG_IF_RELAY" gro on tx off >/dev/null 2>&1 || true
	pg_in "$c" ethtool -K "$PG_IF_CLIENT" gro on tx off >/dev/null 2>&1 || true
	ip -n "$c" link set "$PG_IF_CLIENT" up
	ip -n "$r" link set "$PG_IF_RELAY" up
	ip -n "$r" route add "$PG_CLIENT4_ALT_NET" via "$PG_CLIENT4" dev "$PG_IF_RELAY"
	pg_wait_for 5 grep -q "interface appeared" "$PG_DAEMON_OUT"
	pg_wait_for 5 bash -c "nsenter --net=/run/netns/$r -- '$PG_BUILD/popgatectl' --pin-dir '$PG_PIN_DIR' status --json | grep -q '\"active\":true'"
	refused "$PG_RELAY4" --from "$PG_CLIENT4_ALT"
	delivered "$PG_RELAY4" 25
}

@test "service: sd_notify READY, STATUS with counts, RELOADING, STOPPING; journal priority prefixes" {
	local sock=$PG_TMP/notify.sock got=$PG_TMP/notify.out
	pg_daemon_stop
	# a stand-in for systemd's notify socket (perl is on every Debian)
	timeout 60 perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0]) or die "$!";
		$| = 1;
		while (defined $s->recv(my $m, 4096)) { print "$m\n" }' "$sock" >"$got" &
	pg_bg_register $!
	pg_wait_for 5 test -S "$sock"
	NOTIFY_SOCKET=$sock JOURNAL_STREAM=8:1234 pg_daemon_start native
	pg_wait_for 5 grep -q '^READY=1' "$got"
	grep -q '^STATUS=0 logins seen, 0 addresses authorized' "$got"
	# under systemd every line carries its syslog priority
	grep -q '^<5>running' "$PG_DAEMON_OUT"
	pg_pop3_login "$PG_RELAY4"
	pg_wait_for 5 grep -q '^STATUS=1 logins seen, 1 addresses authorized' "$got"
	kill -HUP "$PG_DAEMON_PID"
	pg_wait_for 5 grep -q '^RELOADING=1' "$got"
	pg_wait_for 5 bash -c "[ \$(grep -c '^READY=1' '$got') -ge 2 ]"
	kill -TERM "$PG_DAEMON_PID"
	pg_wait_for 5 grep -q '^STOPPING=1' "$got"
	pg_wait_for 5 bash -c "! kill -0 $PG_DAEMON_PID 2>/dev/null"
	grep -q '^<5>stopping; the gate stays attached' "$PG_DAEMON_OUT"
}

@test "--detach-on-exit: SIGTERM takes the gate off (the default leaves it on)" {
	pg_daemon_stop
	PG_DAEMON_ARGS=--detach-on-exit pg_daemon_start native
	run pg_ctl_in_relay status --json
	echo "$output" | grep -q '"active":true'
	kill -TERM "$PG_DAEMON_PID"
	pg_wait_for 5 grep -q "gate detached (--detach-on-exit)" "$PG_DAEMON_OUT"
	run pg_ctl_in_relay status --json
	! echo "$output" | grep -q '"active":true' || false
	delivered "$PG_RELAY4" 25
}

@test "privilege separation: the log reader is nobody, holds no capability and no BPF object, cannot open the pins; killed, it is restarted" {
	local reader nobody adm groups
	reader=$(pg_descendants "$PG_DAEMON_PID" | head -n 1)
	[ -n "$reader" ]
	grep -q '^CapEff:[[:space:]]*0000000000000000$' "/proc/$reader/status"
	grep -q '^CapPrm:[[:space:]]*0000000000000000$' "/proc/$reader/status"
	# not root without capabilities: that still owns root's 0600 pins
	nobody=$(id -u nobody) adm=$(getent group adm | cut -d: -f3)
	grep -Eq "^Uid:[[:space:]]+$nobody[[:space:]]+$nobody[[:space:]]+$nobody[[:space:]]+$nobody\$" "/proc/$reader/status"
	grep -Eq "^Gid:[[:space:]]+$(id -g nobody)([[:space:]]+$(id -g nobody)){3}\$" "/proc/$reader/status"
	groups=$(awk '/^Groups:/ { $1 = ""; sub(/^ /, ""); print }' "/proc/$reader/status")
	[[ " $groups " == *" $adm "* ]]
	# with the reader's credentials the pins stay shut; uid 0 without a
	# capability (what the reader was) opens and could rewrite them
	run setpriv --reuid="$nobody" --regid="$(id -g nobody)" --groups="${groups// /,}" \
		--inh-caps=-all --bounding-set=-all -- bpftool map show pinned "$PG_PIN_DIR/gate_auth"
	[ "$status" -ne 0 ]
	[[ "$output" == *"ermission denied"* ]]
	setpriv --inh-caps=-all --bounding-set=-all -- bpftool map show pinned "$PG_PIN_DIR/gate_auth" >/dev/null
	! ls -l "/proc/$reader/fd" | grep -q 'bpf-map\|bpf-prog\|bpf-link' || false
	# nor a mapping of one (the privileged half writes gate_seen through mmap)
	! grep -q 'anon_inode:bpf' "/proc/$reader/maps" || false
	# while the privileged half does hold the maps
	ls -l "/proc/$PG_DAEMON_PID/fd" | grep -q 'bpf-map'
	grep -q 'bpf-map' "/proc/$PG_DAEMON_PID/maps"
	kill -KILL "$reader"
	pg_wait_for 10 grep -q "the log reader runs again" "$PG_DAEMON_OUT"
	pg_alive "$PG_DAEMON_PID"
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	delivered "$PG_RELAY4" 25
}

@test "the privileged half runs where the log reader last ran; a restarted reader is held to no CPU" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (nproc: $(nproc))"
	local reader all restarts
	all=$(cpus_of $$)
	reader=$(pg_descendants "$PG_DAEMON_PID" | head -n 1)
	[ -n "$reader" ]
	for cpu in 1 0; do
		taskset -p -c "$cpu" "$reader" >/dev/null
		pg_pop3_login "$PG_RELAY4"
		pg_daemon_wait_allowed "$PG_CLIENT4" 3
		pg_wait_for 3 cpus_are "$PG_DAEMON_PID" "$cpu"
		pg_ctl revoke "$PG_CLIENT4"
	done
	restarts=$(grep -c 'the log reader runs again' "$PG_DAEMON_OUT" || true)
	kill -KILL "$reader"
	pg_wait_for 10 reader_restarts_above "$restarts"
	reader=$(pg_descendants "$PG_DAEMON_PID" | head -n 1)
	cpus_are "$reader" "$all"
	cpus_are "$PG_DAEMON_PID" "$all"
	pg_pop3_login "$PG_RELAY4"
	pg_daemon_wait_allowed "$PG_CLIENT4" 3
	delivered "$PG_RELAY4" 25
}
