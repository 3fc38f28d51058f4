#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance,
# installed by npm from package.json) against `sheaf serve`:
#
#   tests/mcp/conformance.sh [SHEAF_BINARY]      (default: $SHEAF_BIN, else build/san/sheaf)
#
# The server runs with SHEAF_AUTH=off on a loopback port and a throwaway data
# dir.  Four runs, each judged against tests/mcp/expected-failures.yml (a
# scenario that fails and is not listed, or is listed and passes, fails the
# run):
#   --requirements 2026-07-28   the scenarios that revision requires (stateless wire)
#   --requirements 2025-11-25   the same for 2025-11-25 (initialize, sessions)
#   http-header-validation      2026-07-28 header rules (pending in the suite, so
#                               not scored by the requirement set)
#   server-session-lifecycle    2025-11-25 sessions (added after that release)
# Results (checks.json per scenario) go to $CONFORMANCE_OUT when set, else to
# a temporary directory removed at the end.  Prints each run's totals and
# verdict, then one line: "conformance: ok (N runs)" or "conformance: FAILED ...".
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-${SHEAF_BIN:-$root/build/san/sheaf}}
node=$root/node_modules/.bin/node
suite=$root/node_modules/@modelcontextprotocol/conformance/dist/index.js
baseline=$root/tests/mcp/expected-failures.yml

for f in "$bin" "$node" "$suite" "$baseline"; do
	if [ ! -e "$f" ]; then
		echo "conformance: FAILED: $f is missing (build sheaf; npm ci for node_modules)"
		exit 1
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sheaf-conformance.XXXXXX")
out=${CONFORMANCE_OUT:-$work/results}
mkdir -p "$out"
pid=""

stop_server() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	local rc=$?
	pid=""
	return $rc
}
cleanup() {
	stop_server
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server sees none of the caller's SHEAF_* settings.
unset_sheaf=()
for v in $(env | sed -n 's/^\(SHEAF_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset_sheaf+=(-u "$v")
done
env "${unset_sheaf[@]}" SHEAF_AUTH=off "$bin" serve --listen 127.0.0.1:0 \
	--data-dir "$work/data" >"$work/server.log" 2>&1 &
pid=$!

url=""
for _ in $(seq 1 400); do
	url=$(sed -n 's/.*listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$work/server.log" | head -1)
	[ -n "$url" ] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		break
	fi
	sleep 0.05
done
if [ -z "$url" ]; then
	echo "conformance: FAILED: sheaf serve did not start"
	cat "$work/server.log"
	exit 1
fi
echo "== sheaf serve at $url/mcp (SHEAF_AUTH=off, data dir $work/data)"

failed=()
runs=0
run() {
	local name=$1
	shift
	runs=$((runs + 1))
	echo "== conformance: $name"
	(cd "$work" && "$node" "$suite" server --url "$url/mcp" --expected-failures "$baseline" \
		-o "$out/$name" "$@") >"$out/$name.txt" 2>&1
	local rc=$?
	# Totals, failed checks and the baseline's verdict (colours stripped).
	sed 's/\x1b\[[0-9;]*m//g' "$out/$name.txt" | grep -E \
		'^(Total|Passed): |^  [~✗✓] |^  - |^    Error: |[Bb]aseline|^Expected failures|^Unexpected|^Stale'
	if [ $rc -ne 0 ]; then
		failed+=("$name")
		grep -qE '^(Total|Passed): ' "$out/$name.txt" || tail -20 "$out/$name.txt"
	fi
}

run requirements-2026-07-28 --requirements 2026-07-28
run requirements-2025-11-25 --requirements 2025-11-25
run http-header-validation --scenario http-header-validation --spec-version 2026-07-28
run server-session-lifecycle --scenario server-session-lifecycle --spec-version 2025-11-25

if ! stop_server; then
	failed+=("server-exit")
	echo "sheaf serve did not exit 0 after SIGTERM"
fi
if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$work/server.log"; then
	failed+=("sanitizer")
	grep -nE -A30 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
		"$work/server.log" | head -80
fi

if [ ${#failed[@]} -eq 0 ]; then
	echo "conformance: ok ($runs runs, every failure listed in tests/mcp/expected-failures.yml)"
	exit 0
fi
echo "conformance: FAILED (${failed[*]}); results in $out"
exit 1
