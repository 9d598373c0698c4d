#!/usr/bin/env bash
# Benchmarks of SliceChat.
#   bash bench/run.sh            # the load suite: SliceChat against a Socket.IO + Redis adapter peer
#   bash bench/run.sh micro      # the C# micro-benchmarks of bench/SliceChat.Bench (history page,
#                                # login timing, cross-instance latency), SLICECHAT_BENCH_SAMPLES=300
#   bash bench/run.sh micro sends [N]  # sends/s of 8 concurrent REST senders over 10 rooms, N runs (3), and their median
#   bash bench/run.sh micro idle-sockets [count]  # server memory per idle socket (room sockets on one instance)
#   bash bench/run.sh micro presence-cost [n]  # Redis commands per socket open and close and per renewal round, n sockets (10,000)
#   bash bench/run.sh micro attachments [N]  # upload and download MB/s of one 10 MiB attachment, N runs (7), and their medians
#
# The suite builds the app (Release), starts a throwaway PostgreSQL 15 with default durability
# (fsync on) and redis-server on free loopback ports (scripts/servers.sh), two SliceChat instances
# and two peer instances on loopback, runs bench/load/run.js against both targets, writes
# bench/results/<timestamp>.json and .md, and rewrites docs/benchmarks.md. Everything it started
# is stopped when it ends, also on Ctrl-C.
#
# Knobs (environment):
#   BENCH_SCENARIOS=a,b,c,d,e,f   which scenarios (default: all)
#   BENCH_RUNS=3                  runs per target and scenario (medians are reported)
#   BENCH_DURATION=10             seconds per run
#   BENCH_WARMUP=10               unmeasured seconds of each scenario's load per target before its runs
#   BENCH_C_SOCKETS=5000          sockets in scenario c (e.g. 40000 for 20,000 per instance)
#   BENCH_C_MESSAGES=10           broadcasts in scenario c
#   BENCH_E_RATE=10               messages per second of scenario e's sender
#   BENCH_F_SAMPLES=200           requests per query and run in scenario f
#   BENCH_F_MESSAGES=1000000      messages seeded for scenario f
#   BENCH_DOCS=docs/benchmarks.md where the Markdown report goes ("" to skip)
#   BENCH_PG_STATEMENTS=1         load pg_stat_statements and print PostgreSQL's top statements by
#                                 server time (calls, ms per call, rows per call) when the load ends
#   BENCH_PERF_MAP=1              the app instances write perf maps (DOTNET_PerfMapEnabled, W^X off), so that
#                                 `perf record -g -p <pid>` during a run names their .NET frames
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ "${1:-suite}" == micro ]]; then
  # shellcheck source=../scripts/servers.sh
  source "$REPO_ROOT/scripts/servers.sh"
  cd "$REPO_ROOT"
  dotnet run -c Release --project bench/SliceChat.Bench -- "${@:2}"
  exit 0
fi
if [[ "${1:-suite}" != suite ]]; then
  echo "usage: bash bench/run.sh [suite|micro [sends [N] | idle-sockets [count] | presence-cost [n] | attachments [N]]]" >&2
  exit 2
fi

# The suite measures every server process, so it starts its own servers.
unset SLICECHAT_TEST_POSTGRES SLICECHAT_TEST_REDIS
export SLICECHAT_PG_DURABLE=1
if [[ "${BENCH_PG_STATEMENTS:-0}" == 1 ]]; then
  export SLICECHAT_PG_OPTIONS="${SLICECHAT_PG_OPTIONS:-} -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"
fi
# shellcheck source=../scripts/servers.sh
source "$REPO_ROOT/scripts/servers.sh"
cd "$REPO_ROOT"

BENCH_TMP="$(mktemp -d /tmp/slicechat-bench.XXXXXX)"
BENCH_PIDS=()

bench_cleanup() {
  local rc=$?
  set +e
  local pid file
  # the server instances, from their launchers' pid files (which follow the load generator's restarts in scenario c)
  for file in "$BENCH_TMP"/*.pid; do [[ -f "$file" ]] && BENCH_PIDS+=("$(cat "$file")"); done
  for pid in "${BENCH_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${BENCH_PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  rm -rf "$BENCH_TMP"
  # then scripts/servers.sh's clean-up (PostgreSQL, Redis), which exits with our status
  (exit "$rc")
  cleanup
}
trap bench_cleanup EXIT

blog() { printf '[bench] %s\n' "$*" >&2; }

# Many sockets: raise the descriptor limit for this shell and what it starts, if allowed.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
blog "open files limit: $(ulimit -n)"
# Scenario c's load generator holds every socket, and each instance half of them, in one process: check before the
# peer's half-opened sockets fail with EMFILE.
if [[ ",${BENCH_SCENARIOS:-c}," == *",c,"* ]] && (( ${BENCH_C_SOCKETS:-5000} + 1000 > $(ulimit -n) )); then
  blog "scenario c needs more open files than this machine allows a process ($(ulimit -n), hard limit $(ulimit -Hn)) for ${BENCH_C_SOCKETS:-5000} sockets: raise the limit or lower BENCH_C_SOCKETS"
  exit 1
fi

blog "building the app (Release)"
dotnet build -c Release src/SliceChat/SliceChat.csproj -nologo -v q >"$BENCH_TMP/build.log" 2>&1 ||
  { cat "$BENCH_TMP/build.log" >&2; blog "build failed"; exit 1; }
APP_DLL="$REPO_ROOT/src/SliceChat/bin/Release/net10.0/SliceChat.dll"
[[ -f "$APP_DLL" ]] || { blog "missing $APP_DLL"; exit 1; }

blog "installing the Node.js packages (npm ci)"
for dir in bench/peers/socketio bench/load; do
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$BENCH_TMP/npm.log" 2>&1) ||
    { cat "$BENCH_TMP/npm.log" >&2; blog "npm ci failed in $dir"; exit 1; }
done

PG_HOST=127.0.0.1
"$PG_BIN/createdb" -h "$PG_HOST" -p "$PG_PORT" -U postgres slicechat_bench
[[ "${BENCH_PG_STATEMENTS:-0}" == 1 ]] &&
  "$PG_BIN/psql" -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d slicechat_bench -c "CREATE EXTENSION pg_stat_statements"
PG_CONN="Host=$PG_HOST;Port=$PG_PORT;Username=postgres;Password=postgres;Database=slicechat_bench;Maximum Pool Size=100"
POSTMASTER_PID="$(head -1 "$PG_DIR/data/postmaster.pid")"
SIGNING_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"

wait_http() { # url, name, pid
  local i
  for i in $(seq 1 300); do
    if curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; then return 0; fi
    kill -0 "$3" 2>/dev/null || { blog "$2 exited"; return 1; }
    sleep 0.2
  done
  blog "$2 did not answer $1"; return 1
}

# Every server instance runs from a launcher script, $BENCH_TMP/<name>.sh, which writes its pid to <name>.pid and
# execs the server (appending to <name>.log): the load generator restarts a target's instances with them, so that
# scenario c measures memory on fresh processes.
launcher() { # name, then the command (with env ...)
  local name="$1"; shift
  {
    echo '#!/usr/bin/env bash'
    printf 'echo $$ >%q\n' "$BENCH_TMP/$name.pid"
    printf 'exec'; printf ' %q' "$@"; printf ' >>%q 2>&1\n' "$BENCH_TMP/$name.log"
  } >"$BENCH_TMP/$name.sh"
  bash "$BENCH_TMP/$name.sh" &
}

APP_URLS=() APP_PIDS=()
for name in a b; do
  port="$(free_port)"
  launcher "app_$name" env ConnectionStrings__Postgres="$PG_CONN" \
      Redis__Configuration="$SLICECHAT_TEST_REDIS,abortConnect=false" \
      Jwt__SigningKey="$SIGNING_KEY" \
      Jwt__AccessTokenMinutes=240 \
      Limits__RateLimitingEnabled=false \
      Limits__ShutdownDrainSeconds=0 \
      Passwords__BcryptWorkFactor=4 \
      ASPNETCORE_URLS="http://127.0.0.1:$port" \
      ASPNETCORE_ENVIRONMENT=Production \
      Logging__LogLevel__Default=Warning \
      Logging__LogLevel__Microsoft.AspNetCore=Warning \
      Logging__LogLevel__SliceChat.Infrastructure.Realtime.ConversationFeed=Information \
      DOTNET_PerfMapEnabled="${BENCH_PERF_MAP:-0}" DOTNET_EnableWriteXorExecute="$(( 1 - ${BENCH_PERF_MAP:-0} ))" \
      dotnet "$APP_DLL" --contentRoot "$(dirname "$APP_DLL")"
  pid=$!
  blog "SliceChat $name on 127.0.0.1:$port (pid $pid)"
  # start them one after the other, so start-up migrations do not race
  wait_http "http://127.0.0.1:$port/health/live" "SliceChat $name" "$pid" || { cat "$BENCH_TMP/app_$name.log" >&2; exit 1; }
  APP_URLS+=("http://127.0.0.1:$port") APP_PIDS+=("$pid")
done
for url in "${APP_URLS[@]}"; do wait_http "$url/health/ready" "SliceChat $url" "${APP_PIDS[0]}"; done

PEER_URLS=() PEER_PIDS=()
for name in a b; do
  port="$(free_port)"
  launcher "peer_$name" env PORT="$port" REDIS_URL="redis://$SLICECHAT_TEST_REDIS" node "$REPO_ROOT/bench/peers/socketio/server.js"
  pid=$!
  blog "peer $name on 127.0.0.1:$port (pid $pid)"
  wait_http "http://127.0.0.1:$port/health" "peer $name" "$pid" || { cat "$BENCH_TMP/peer_$name.log" >&2; exit 1; }
  PEER_URLS+=("http://127.0.0.1:$port") PEER_PIDS+=("$pid")
done

join() { local IFS=,; echo "$*"; }
blog "running the load generator"
BENCH_SLICECHAT_URLS="$(join "${APP_URLS[@]}")" \
BENCH_PEER_URLS="$(join "${PEER_URLS[@]}")" \
BENCH_PIDS_APP="$(join "${APP_PIDS[@]}")" \
BENCH_PIDS_PEER="$(join "${PEER_PIDS[@]}")" \
BENCH_PID_REDIS="$REDIS_PID" \
BENCH_APP_LOGS="$BENCH_TMP/app_a.log,$BENCH_TMP/app_b.log" \
BENCH_LAUNCHERS="$BENCH_TMP" \
BENCH_PID_POSTMASTER="$POSTMASTER_PID" \
BENCH_PG_HOST="$PG_HOST" BENCH_PG_PORT="$PG_PORT" BENCH_PG_DB=slicechat_bench PG_BIN="$PG_BIN" \
BENCH_OUT_DIR="$REPO_ROOT/bench/results" \
BENCH_DOCS="${BENCH_DOCS-$REPO_ROOT/docs/benchmarks.md}" \
BENCH_COMMAND="${BENCH_COMMAND:-bash bench/run.sh}" \
  node bench/load/run.js &
load_pid=$!
BENCH_PIDS+=("$load_pid")
load_rc=0
wait "$load_pid" || load_rc=$?
if [[ "${BENCH_PG_STATEMENTS:-0}" == 1 ]]; then
  blog "PostgreSQL's top statements by server time (execution and planning)"
  "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U postgres -d slicechat_bench -P pager=off -c "
    SELECT calls, round((total_exec_time + total_plan_time)::numeric, 0) AS total_ms,
           round(((total_exec_time + total_plan_time) / calls)::numeric, 3) AS ms_per_call,
           round(rows::numeric / calls, 1) AS rows_per_call, plans,
           left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
    FROM pg_stat_statements WHERE calls > 0 AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY total_exec_time + total_plan_time DESC LIMIT 20" >&2
fi
for name in a b; do
  if grep -qiE 'fail|exception|crit' "$BENCH_TMP/app_$name.log"; then
    blog "SliceChat $name log (warnings and errors):"; tail -n 40 "$BENCH_TMP/app_$name.log" >&2
  fi
done
exit "$load_rc"
