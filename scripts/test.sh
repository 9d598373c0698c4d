#!/usr/bin/env bash
# Runs the whole SliceChat test suite on a fresh machine.
#
#   scripts/test.sh [extra dotnet test args, e.g. --filter FullyQualifiedName~Rooms]
#
# Installs redis-server and nginx from Debian's packages when missing, starts a throwaway
# PostgreSQL 15 and redis-server on free loopback ports (unless
# SLICECHAT_TEST_POSTGRES / SLICECHAT_TEST_REDIS are already set), runs `dotnet test`,
# tears everything down again and prints "N passed, M failed[, K skipped]" as the last line.
#
# Environment knobs:
#   SLICECHAT_TEST_POSTGRES       use this Npgsql connection string instead of starting PostgreSQL
#   SLICECHAT_TEST_REDIS          use this redis endpoint (host:port) instead of starting redis-server
#   SLICECHAT_TEST_CHROMIUM       the Chromium the browser tests drive (default: /usr/bin/chromium, from
#                                 Debian's chromium package, installed when missing)
#   SLICECHAT_TEST_RESULTS_DIR    where the .trx goes (default: <repo>/TestResults; stale *.trx there are removed)
#   PG_BIN                        PostgreSQL binaries (default: /usr/lib/postgresql/15/bin)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS_DIR="${SLICECHAT_TEST_RESULTS_DIR:-$REPO_ROOT/TestResults}"

# shellcheck source=servers.sh
source "$REPO_ROOT/scripts/servers.sh"
# The cluster tests put a real nginx in front of app instances (scripts/cluster.sh).
ensure_package nginx nginx

# --- chromium, for the web client's browser tests ---------------------------------------------
if [[ ! -x "${SLICECHAT_TEST_CHROMIUM:-/usr/bin/chromium}" ]]; then
  log "chromium not found; installing it via apt-get"
  apt_install chromium
fi

# --- tests ---------------------------------------------------------------------------------
cd "$REPO_ROOT"
mkdir -p "$RESULTS_DIR"
find "$RESULTS_DIR" -name '*.trx' -type f -delete

# No long-lived msbuild/build-server processes: they would outlive the run (and the servers).
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

# Run in the background, in its own process group, and `wait`: INT/TERM/HUP sent to this
# script are then handled at once (the trap stops dotnet with all its children, then the
# servers) instead of only after dotnet test returns.
test_rc=0
setsid dotnet test SliceChat.sln -c Release --logger "trx;LogFileName=results.trx" \
  --results-directory "$RESULTS_DIR" "$@" </dev/null &
DOTNET_PID=$! DOTNET_PGID=$!
wait "$DOTNET_PID" || test_rc=$?
DOTNET_PID=""

# --- summary -------------------------------------------------------------------------------
summary_rc=0
python3 - "$RESULTS_DIR" "$test_rc" <<'PY' || summary_rc=$?
import glob, os, sys
import xml.etree.ElementTree as ET

results_dir, test_rc = sys.argv[1], int(sys.argv[2])
files = sorted(glob.glob(os.path.join(results_dir, "**", "*.trx"), recursive=True))
keys = ("total", "executed", "passed", "failed", "error", "timeout", "aborted", "notExecuted")
totals = dict.fromkeys(keys, 0)
for path in files:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        print(f"[test.sh] cannot parse {path}: {e}", file=sys.stderr)
        totals["failed"] += 1
        continue
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == "Counters":
            for k in keys:
                totals[k] += int(el.get(k, "0") or 0)
if not files:
    print(f"[test.sh] no .trx file found under {results_dir}", file=sys.stderr)

passed = totals["passed"]
failed = totals["failed"] + totals["error"] + totals["timeout"] + totals["aborted"]
skipped = totals["notExecuted"]
line = f"{passed} passed, {failed} failed"
if skipped > 0:
    line += f", {skipped} skipped"
sys.stdout.flush()
print(line)
sys.exit(1 if (test_rc != 0 or failed > 0 or passed == 0) else 0)
PY

if [[ "$test_rc" != 0 && "$summary_rc" == 0 ]]; then summary_rc=$test_rc; fi
exit "$summary_rc"
