# Sourced by scripts/test.sh and bench/run.sh: installs redis-server if missing, starts a throwaway
# PostgreSQL 15 and redis-server on free loopback ports (unless SLICECHAT_TEST_POSTGRES /
# SLICECHAT_TEST_REDIS are already set), exports their addresses, and stops and removes them
# when the sourcing script exits, however it exits. The sourcing script may set DOTNET_PID /
# DOTNET_PGID to a process group that the clean-up stops first.
#
# Environment knobs:
#   SLICECHAT_TEST_POSTGRES       use this Npgsql connection string instead of starting PostgreSQL
#   SLICECHAT_TEST_REDIS          use this redis endpoint (host:port) instead of starting redis-server
#   PG_BIN                        PostgreSQL binaries (default: /usr/lib/postgresql/15/bin)
#   SLICECHAT_PG_DURABLE=1        keep PostgreSQL's default durability (fsync, synchronous_commit,
#                                 full_page_writes on), for benchmarks; tests turn them off for speed
#   SLICECHAT_PG_OPTIONS          more server options, e.g. "-c shared_preload_libraries=pg_stat_statements"

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[test.sh] %s\n' "$*" >&2; }

# --- cleanup -------------------------------------------------------------------------------
PG_DIR="" PG_STARTED=0 REDIS_DIR="" REDIS_PID="" DOTNET_PID="" DOTNET_PGID=""

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM HUP
  # dotnet test runs in its own process group (setsid below): stop it together with its
  # msbuild/testhost children if interrupted, and reap any stragglers after a normal run.
  if [[ -n "$DOTNET_PGID" ]] && kill -0 -- "-$DOTNET_PGID" 2>/dev/null; then
    [[ -n "$DOTNET_PID" ]] && log "stopping dotnet test (process group $DOTNET_PGID)"
    kill -TERM -- "-$DOTNET_PGID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 -- "-$DOTNET_PGID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$DOTNET_PGID" 2>/dev/null
  fi
  [[ -n "$DOTNET_PID" ]] && wait "$DOTNET_PID" 2>/dev/null
  if [[ -n "$REDIS_PID" ]]; then
    kill -TERM "$REDIS_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
  fi
  if [[ -n "$PG_DIR" && "$PG_STARTED" == 1 ]]; then
    as_postgres "$PG_BIN/pg_ctl" stop -D "$PG_DIR/data" -m immediate -w -t 30 >/dev/null 2>&1
    # Belt and braces: if pg_ctl could not stop it, kill the postmaster directly.
    if [[ -f "$PG_DIR/data/postmaster.pid" ]]; then
      local pgpid
      pgpid="$(head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)"
      [[ -n "$pgpid" ]] && kill -KILL "$pgpid" 2>/dev/null
    fi
  fi
  [[ -n "$PG_DIR" ]] && rm -rf "$PG_DIR"
  [[ -n "$REDIS_DIR" ]] && rm -rf "$REDIS_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- helpers -------------------------------------------------------------------------------
as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo "$@"; fi
}

# Installs Debian packages quietly (the log is shown only on failure); a policy keeps their init scripts from
# starting services, such as a system-wide redis on 6379.
apt_install() {
  local policy_rc=/usr/sbin/policy-rc.d created_policy=0 apt_log apt_rc=0
  if [[ ! -e "$policy_rc" ]]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy_rc" >/dev/null
    as_root chmod +x "$policy_rc"
    created_policy=1
  fi
  apt_log="$(mktemp /tmp/slicechat-apt.XXXXXX.log)"
  { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
  } >"$apt_log" 2>&1 || apt_rc=$?
  [[ "$created_policy" == 1 ]] && as_root rm -f "$policy_rc"
  if [[ "$apt_rc" != 0 ]]; then cat "$apt_log" >&2; rm -f "$apt_log"; log "installing $* failed"; exit 1; fi
  rm -f "$apt_log"
}

free_port() {
  python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# --- packages ------------------------------------------------------------------------------
# ensure_package COMMAND PACKAGE: installs Debian's PACKAGE unless COMMAND is found (also in /usr/sbin).
ensure_package() {
  local command="$1" package="$2"
  PATH="$PATH:/usr/sbin:/sbin" command -v "$command" >/dev/null 2>&1 && return 0
  log "$command not found; installing $package via apt-get"
  apt_install "$package"
  PATH="$PATH:/usr/sbin:/sbin" command -v "$command" >/dev/null 2>&1 || { log "$command still not found after installing $package"; exit 1; }
}

if [[ -z "${SLICECHAT_TEST_REDIS:-}" ]]; then ensure_package redis-server redis-server; fi

# --- PostgreSQL ----------------------------------------------------------------------------
if [[ -n "${SLICECHAT_TEST_POSTGRES:-}" ]]; then
  log "using PostgreSQL from SLICECHAT_TEST_POSTGRES"
else
  PG_DIR="$(mktemp -d /tmp/slicechat-pg.XXXXXX)"
  if [[ "$(id -u)" == 0 ]]; then chown postgres: "$PG_DIR"; fi
  PG_PORT="$(free_port)"
  PG_DURABILITY="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [[ "${SLICECHAT_PG_DURABLE:-0}" == 1 ]] && PG_DURABILITY=""
  log "starting PostgreSQL 15 on 127.0.0.1:$PG_PORT (dir $PG_DIR)"
  if ! as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync -E UTF8 >"$PG_DIR/initdb.log" 2>&1; then
    cat "$PG_DIR/initdb.log" >&2; log "initdb failed"; exit 1
  fi
  PG_STARTED=1
  if ! as_postgres "$PG_BIN/pg_ctl" start -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 $PG_DURABILITY -c max_connections=300 ${SLICECHAT_PG_OPTIONS:-}" \
      >/dev/null; then
    cat "$PG_DIR/postgres.log" >&2 2>/dev/null || true; log "PostgreSQL failed to start"; exit 1
  fi
  for i in $(seq 1 100); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres && break
    if [[ "$i" == 100 ]]; then cat "$PG_DIR/postgres.log" >&2; log "PostgreSQL not ready"; exit 1; fi
    sleep 0.2
  done
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres slicechat_test
  export SLICECHAT_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=postgres;Database=slicechat_test;Include Error Detail=true"
fi

# --- redis ---------------------------------------------------------------------------------
if [[ -n "${SLICECHAT_TEST_REDIS:-}" ]]; then
  log "using redis from SLICECHAT_TEST_REDIS ($SLICECHAT_TEST_REDIS)"
  if [[ -z "${SLICECHAT_TEST_REDIS_SERVER_BIN:-}" ]] && command -v redis-server >/dev/null 2>&1; then
    SLICECHAT_TEST_REDIS_SERVER_BIN="$(command -v redis-server)"
    export SLICECHAT_TEST_REDIS_SERVER_BIN
  fi
else
  REDIS_DIR="$(mktemp -d /tmp/slicechat-redis.XXXXXX)"
  REDIS_PORT="$(free_port)"
  while [[ "$REDIS_PORT" == "${PG_PORT:-}" ]]; do REDIS_PORT="$(free_port)"; done
  log "starting redis-server on 127.0.0.1:$REDIS_PORT (dir $REDIS_DIR)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$REDIS_DIR" >"$REDIS_DIR/redis.log" 2>&1 &
  REDIS_PID=$!
  for i in $(seq 1 100); do
    [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] && break
    if [[ "$i" == 100 ]] || ! kill -0 "$REDIS_PID" 2>/dev/null; then
      cat "$REDIS_DIR/redis.log" >&2; log "redis-server did not answer PING"; exit 1
    fi
    sleep 0.1
  done
  export SLICECHAT_TEST_REDIS="127.0.0.1:$REDIS_PORT"
  SLICECHAT_TEST_REDIS_SERVER_BIN="$(command -v redis-server)"
  export SLICECHAT_TEST_REDIS_SERVER_BIN
fi

log "SLICECHAT_TEST_POSTGRES=$SLICECHAT_TEST_POSTGRES"
log "SLICECHAT_TEST_REDIS=$SLICECHAT_TEST_REDIS"

