# daemon_report.awk - daemon_bench.sh's "metric NAME VALUE" lines -> a table on
# stdout and a JSON file (-v json=PATH; machine facts in -v kernel, cpu, os,
# ncpu, mem, loadavg, date, mode). Exits 1 when a correctness check failed.
# awk because it is on every Debian system (mawk): no python for a smoke run.

$1 == "metric" { if (!($2 in m)) order[n++] = $2; m[$2] = $3 }

function has(k) { return k in m }
function rate(v) { return v >= 1e6 ? sprintf("%.1f M", v / 1e6) : sprintf("%.1f k", v / 1e3) }
function dur(us) {
	return us >= 1e6 ? sprintf("%.2f s", us / 1e6) : us >= 1e3 ? sprintf("%.1f ms", us / 1e3) \
		: sprintf("%.1f us", us)
}
function mib(b) { return sprintf("%.1f MiB", b / 1048576) }
function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function check(name, ok) {
	checks[nc++] = name; check_ok[name] = ok
	if (!ok) failed = 1
}
function goal(name, ok) { goals[ng++] = name; goal_ok[name] = ok }

function latency_row(label, p) {
	if (!has(p ".logins")) { printf "  %-30s skipped\n", label; return }
	printf "  %-30s %6d %5d %10s %10s %10s %10s %6.0f%% %8.1f\n", label, m[p ".logins"], m[p ".lost"],
		dur(m[p ".p50_us"]), dur(m[p ".p90_us"]), dur(m[p ".p99_us"]), dur(m[p ".max_us"]),
		m[p ".cpu_busy_pct"], m[p ".reader_cpu_us_per_login"]
	check(p " lost 0", m[p ".lost"] == 0)
}

END {
	printf "\npopgate daemon benchmarks (%s) - %s, kernel %s, %d CPUs, %s; load at start %s\n",
		mode, os, kernel, ncpu, cpu, loadavg

	printf "\nLogin throughput: %d-line mixed mail log (%.0f bytes/line), %d logins\n",
		m["parse.lines"], m["parse.bytes"] / m["parse.lines"], m["parse.logins_expected"]
	printf "  %-52s %12s lines/s (median %s)\n", "popgated path: log_source_file + login_parse (all)",
		rate(m["parse.source.best_lines_per_s"]), rate(m["parse.source.median_lines_per_s"])
	printf "  %-52s %12s lines/s\n", "login_parse alone, lines in memory",
		rate(m["parse.parse_only.best_lines_per_s"])
	printf "  %-52s %d of %d\n", "logins found (same addresses, same order)",
		m["parse.logins_found"], m["parse.logins_expected"]
	check("logins found == logins generated", m["parse.logins_found"] == m["parse.logins_expected"] && \
		m["parse.address_mismatches"] == 0)
	ratio = 0
	if (has("f2b.all.lines_per_s")) {
		ratio = m["parse.source.best_lines_per_s"] / m["f2b.all.lines_per_s"]
		printf "  %-52s %12s lines/s, matched %d of %d: popgated %.0fx faster\n",
			sprintf("fail2ban-regex, 5 login regexes, first %d lines", m["f2b.all.lines"]),
			rate(m["f2b.all.lines_per_s"]), m["f2b.all.matched"], m["f2b.expected"], ratio
	}
	if (has("f2b.dovecot.lines_per_s"))
		printf "  %-52s %12s lines/s, matched %d\n", "fail2ban-regex, Dovecot regex only",
			rate(m["f2b.dovecot.lines_per_s"]), m["f2b.dovecot.matched"]

	printf "\nLogin-to-gate latency: write of a login line -> entry visible in the pinned map\n"
	printf "  %-30s %6s %5s %10s %10s %10s %10s %7s %8s\n", "source", "logins", "lost", "p50", "p90", "p99",
		"max", "busy", "cpu us"
	latency_row("file, popgated (inotify)", "latency.file")
	latency_row("file, popgated on one CPU", "latency.file_one_cpu")
	latency_row("file, writer too on it", "latency.file_all_one_cpu")
	latency_row("file, floor (one process)", "latency.floor")
	latency_row("journal-remote -> popgated", "latency.journal_remote")
	latency_row("journald -> popgated", "latency.journald")
	latency_row("1-second polling tail", "latency.poll_1s")
	if (has("latency.file_full_sweeping.logins"))
		latency_row(sprintf("file, %d entries, sweep 10s", m["memory.entries"]), "latency.file_full_sweeping")
	printf "  (visible: the kernel's stamp when the map update returned, taken by a probe on\n"
	printf "  bpf(2); the writer sleeps between logins. floor: a child reading the file the\n"
	printf "  least any inotify reader can, one map update. busy: all CPUs during the run;\n"
	printf "  much above a few %%, other work competed and the tail shows it. cpu us: CPU time\n"
	printf "  the reader spent per login (popgated: both its processes))\n\n"

	if (has("memory.entries")) {
		printf "\nMemory: popgated with max_entries %d, %d distinct logins\n", m["memory.max_entries"],
			m["memory.expected_entries"]
		printf "  %-52s %d KiB (privileged %d + reader %d)\n", "popgated VmRSS, idle (one login)",
			m["memory.idle_rss_kib"], m["memory.idle_main_rss_kib"], m["memory.idle_reader_rss_kib"]
		printf "  %-52s %d KiB (privileged %d + reader %d; VmHWM %d + %d)\n",
			sprintf("popgated VmRSS, %d entries", m["memory.entries"]), m["memory.rss_kib"],
			m["memory.main_rss_kib"], m["memory.reader_rss_kib"], m["memory.main_hwm_kib"],
			m["memory.reader_hwm_kib"]
		per = (m["memory.map_memlock_bytes"] - m["memory.idle_map_memlock_bytes"]) / m["memory.entries"]
		printf "  %-52s %s idle, %s full (%.0f bytes/entry)\n", "gate_auth kernel memory (fdinfo memlock)",
			mib(m["memory.idle_map_memlock_bytes"]), mib(m["memory.map_memlock_bytes"]), per
		if (has("memory.bpftool_memlock_bytes"))
			printf "  %-52s %s\n", "the same from bpftool map show", mib(m["memory.bpftool_memlock_bytes"])
		printf "  %-52s %s logins/s (%.1f s for all)\n", "daemon fill rate (parse + map update)",
			rate(m["memory.logins_per_s"]), m["memory.applied_s"]
		check("map entries == distinct logins", m["memory.entries"] == m["memory.expected_entries"])
	}

	if (mode == "full") {
		goal("throughput >= 5M lines/s", m["parse.source.best_lines_per_s"] >= 5e6)
		if (ratio) goal(">= 50x fail2ban", ratio >= 50)
		if (has("latency.file.p99_us")) goal("file p99 <= 100 us", m["latency.file.p99_us"] <= 100)
	}
	printf "\nChecks:"
	for (i = 0; i < nc; i++) printf " [%s] %s;", check_ok[checks[i]] ? "ok" : "FAILED", checks[i]
	printf "\n"
	if (ng) {
		printf "Goals:"
		for (i = 0; i < ng; i++) printf " [%s] %s;", goal_ok[goals[i]] ? "met" : "MISSED", goals[i]
		printf "\n"
	}

	printf "{\n  \"mode\": %s,\n  \"date\": %s,\n", jstr(mode), jstr(date) > json
	printf "  \"machine\": {\"os\": %s, \"kernel\": %s, \"cpu\": %s, \"cpus\": %d, \"mem_kib\": %d, " \
		"\"loadavg_at_start\": %s},\n", jstr(os), jstr(kernel), jstr(cpu), ncpu, mem, jstr(loadavg) > json
	printf "  \"metrics\": {" > json
	for (i = 0; i < n; i++) printf "%s\n    %s: %s", i ? "," : "", jstr(order[i]), sprintf("%.10g", m[order[i]]) > json
	printf "\n  },\n  \"checks\": {" > json
	for (i = 0; i < nc; i++) printf "%s%s: %s", i ? ", " : "", jstr(checks[i]), check_ok[checks[i]] ? "true" : "false" > json
	printf "},\n  \"goals\": {" > json
	for (i = 0; i < ng; i++) printf "%s%s: %s", i ? ", " : "", jstr(goals[i]), goal_ok[goals[i]] ? "true" : "false" > json
	printf "}\n}\n" > json
	close(json)
	printf "\nwritten: %s\n", json
	exit failed
}
