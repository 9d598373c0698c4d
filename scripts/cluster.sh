#!/usr/bin/env bash
# A local SliceChat cluster without Docker: PostgreSQL, Redis, N app instances and nginx (Debian's
# package, installed when missing) as the load balancer that upgrades WebSockets, all on loopback.
#
#   bash scripts/cluster.sh start [N]     # N instances (default 2); prints the one URL, then runs until
#                                         # Ctrl-C or `stop`, which stop everything it started (by PID)
#   bash scripts/cluster.sh status        # each process, its port and its /health/ready
#   bash scripts/cluster.sh restart [I]   # rolling restart: instance I (or each in turn) gets SIGTERM,
#                                         # drains, exits, and starts again on its port
#   bash scripts/cluster.sh stop
#
# docker-compose.yml describes the same topology (services, ports, environment) for Docker, and
# deploy/nginx.conf is the load balancer of both: this script renders it for loopback.
#
# Knobs (environment):
#   SLICECHAT_CLUSTER_DIR=/tmp/slicechat-cluster   state: PIDs, ports, logs (app<I>.log, nginx-access.log)
#   SLICECHAT_CLUSTER_PORT=8080                    nginx's port (the one URL)
#   SLICECHAT_CLUSTER_DRAIN_SECONDS=2              each instance's Limits:ShutdownDrainSeconds
#   SLICECHAT_CLUSTER_POSTGRES                     an Npgsql connection string to use (default: a throwaway PostgreSQL)
#   SLICECHAT_CLUSTER_PREFIX=slicechat             the instances' Redis:ChannelPrefix
#   SLICECHAT_TEST_REDIS                           a Redis host:port to use (default: a throwaway redis-server)
#   SLICECHAT_APP_DLL                              a built SliceChat.dll (default: build src/SliceChat, Release)
#   SLICECHAT_CLUSTER_APP_ENV                      more NAME=value settings for every instance, space-separated
#                                                  (e.g. "Limits__RateLimitingEnabled=false Logging__LogLevel__Default=Warning")
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${SLICECHAT_CLUSTER_DIR:-/tmp/slicechat-cluster}"
DRAIN_SECONDS="${SLICECHAT_CLUSTER_DRAIN_SECONDS:-2}"
export PATH="$PATH:/usr/sbin:/sbin"

clog() { printf '[cluster] %s\n' "$*" >&2; }

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

read_state() { cat "$DIR/$1" 2>/dev/null || true; }

# stop_pid PID SECONDS: SIGTERM, and SIGKILL if it has not exited within SECONDS.
stop_pid() {
  local pid="$1" i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $2 * 10; i++)); do alive "$pid" || return 0; sleep 0.1; done
  clog "pid $pid did not exit within $2 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

# wait_ready URL PID: until URL answers 200 (or the process exits).
wait_ready() {
  local i
  for i in $(seq 1 300); do
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
    alive "$2" || { clog "pid $2 exited before $1 answered"; return 1; }
    sleep 0.2
  done
  clog "$1 did not answer"; return 1
}

# app_env PORT METRICS_PORT: one instance's environment, NAME=value per line. docker-compose.yml's
# x-app gives its instances the same names (ASPNETCORE_URLS comes from the Dockerfile there).
app_env() {
  printf '%s\n' \
    "ConnectionStrings__Postgres=$PG_CONN" \
    "Redis__Configuration=$REDIS_ADDR" \
    "Redis__ChannelPrefix=${SLICECHAT_CLUSTER_PREFIX:-slicechat}" \
    "Jwt__SigningKey=$SIGNING_KEY" \
    "ASPNETCORE_ENVIRONMENT=Production" \
    "ASPNETCORE_URLS=http://127.0.0.1:$1" \
    "Network__KnownProxies__0=127.0.0.1" \
    "Metrics__Enabled=true" \
    "Metrics__Port=$2" \
    "Limits__ShutdownDrainSeconds=$DRAIN_SECONDS" \
    "Logging__Console__FormatterName=json"
  local extra
  for extra in ${SLICECHAT_CLUSTER_APP_ENV:-}; do printf '%s\n' "$extra"; done
}

# launch_app I: starts instance I from its saved environment, in a session of its own (a restart
# outlives the shell that ran it), and records its PID.
launch_app() {
  local i="$1" env=() line
  while IFS= read -r line; do env+=("$line"); done <"$DIR/app$i.env"
  local dll; dll="$(read_state app.dll)"
  # Its own folder as the content root: its appsettings.json and the web client's wwwroot are there.
  setsid env "${env[@]}" dotnet "$dll" --contentRoot "$(dirname "$dll")" >>"$DIR/app$i.log" 2>&1 </dev/null &
  echo $! >"$DIR/app$i.pid"
}

instances() { local f; for f in "$DIR"/app*.port; do [[ -e "$f" ]] && basename "$f" .port | sed 's/^app//'; done | sort -n; }

# nginx first (no new connections), then every instance at once (each drains, then exits).
stop_cluster_processes() {
  local i stoppers=()
  stop_pid "$(read_state nginx.pid)" 10
  for i in $(instances); do
    stop_pid "$(read_state "app$i.pid")" $((DRAIN_SECONDS + 30)) &
    stoppers+=($!)
  done
  [[ ${#stoppers[@]} -eq 0 ]] || wait "${stoppers[@]}"
}

cmd_start() {
  local count="${1:-2}"
  [[ "$count" =~ ^[1-9][0-9]*$ ]] || { clog "usage: cluster.sh start [N >= 1]"; exit 2; }
  local nginx_port="${SLICECHAT_CLUSTER_PORT:-8080}"
  if (exec 3<>"/dev/tcp/127.0.0.1/$nginx_port") 2>/dev/null; then clog "port $nginx_port is in use; set SLICECHAT_CLUSTER_PORT"; exit 1; fi
  if alive "$(read_state cluster.pid)"; then clog "a cluster runs already (pid $(read_state cluster.pid), $DIR); stop it first"; exit 1; fi
  if [[ -d "$DIR" && ! -e "$DIR/.slicechat-cluster" && -n "$(ls -A "$DIR")" ]]; then clog "$DIR is not a cluster's directory; set SLICECHAT_CLUSTER_DIR"; exit 1; fi
  rm -rf "$DIR" && mkdir -p "$DIR/nginx-temp" && touch "$DIR/.slicechat-cluster"
  echo $$ >"$DIR/cluster.pid"

  # PostgreSQL and Redis (throwaway unless given), cleaned up when this script exits.
  [[ -n "${SLICECHAT_CLUSTER_POSTGRES:-}" ]] && export SLICECHAT_TEST_POSTGRES="$SLICECHAT_CLUSTER_POSTGRES"
  # shellcheck source=servers.sh
  source "$REPO_ROOT/scripts/servers.sh"
  SLEEP_PID=""
  cluster_cleanup() {
    local rc=$?
    set +e
    trap - INT TERM
    clog "stopping the cluster"
    alive "$SLEEP_PID" && kill "$SLEEP_PID" 2>/dev/null
    stop_cluster_processes
    rm -f "$DIR"/*.pid "$DIR/url"
    (exit "$rc")
    cleanup # scripts/servers.sh: PostgreSQL, Redis; exits with our status
  }
  trap cluster_cleanup EXIT
  ensure_package nginx nginx
  PG_CONN="$SLICECHAT_TEST_POSTGRES"
  REDIS_ADDR="$SLICECHAT_TEST_REDIS,abortConnect=false"
  SIGNING_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"

  local dll="${SLICECHAT_APP_DLL:-}"
  if [[ -z "$dll" ]]; then
    clog "building the app (Release)"
    dotnet build -c Release "$REPO_ROOT/src/SliceChat/SliceChat.csproj" -nologo -v q >"$DIR/build.log" 2>&1 ||
      { cat "$DIR/build.log" >&2; clog "build failed"; exit 1; }
    dll="$REPO_ROOT/src/SliceChat/bin/Release/net10.0/SliceChat.dll"
  fi
  [[ -f "$dll" ]] || { clog "missing $dll"; exit 1; }
  echo "$dll" >"$DIR/app.dll"

  local i port metrics upstream=""
  for i in $(seq 1 "$count"); do
    port="$(free_port)" metrics="$(free_port)"
    echo "$port" >"$DIR/app$i.port"
    echo "$metrics" >"$DIR/app$i.metrics-port"
    app_env "$port" "$metrics" >"$DIR/app$i.env"
    launch_app "$i"
    clog "instance $i on 127.0.0.1:$port (metrics on :$metrics, pid $(read_state "app$i.pid"))"
    # One after the other: the first applies the migrations.
    wait_ready "http://127.0.0.1:$port/health/ready" "$(read_state "app$i.pid")" || { tail -n 30 "$DIR/app$i.log" >&2; exit 1; }
    upstream+="        server 127.0.0.1:$port max_fails=0;"$'\n'
  done

  # deploy/nginx.conf for loopback: our port, our instances, logs and temp files in $DIR.
  UPSTREAM="$upstream" NGINX_PORT="$nginx_port" STATE="$DIR" python3 - "$REPO_ROOT/deploy/nginx.conf" >"$DIR/nginx.conf" <<'PY'
import os, re, sys
conf = open(sys.argv[1]).read()
state = os.environ["STATE"]
conf = re.sub(r"(upstream slicechat \{\n)(?:\s*server app\d+:\d+[^;]*;\n)+", lambda m: m.group(1) + os.environ["UPSTREAM"], conf)
conf = re.sub(r"listen \d+;", f"listen 127.0.0.1:{os.environ['NGINX_PORT']};", conf)
conf = conf.replace("/var/log/nginx/", state + "/nginx-")
temp = "".join(f"    {kind}_temp_path {state}/nginx-temp/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
conf = conf.replace("http {\n", "http {\n" + temp, 1)
print(conf, end="")
PY
  chmod 0777 "$DIR/nginx-temp" # nginx's workers write request bodies there
  nginx -p "$DIR" -c "$DIR/nginx.conf" -g "daemon off; pid $DIR/nginx.pid;" 2>>"$DIR/nginx-error.log" &
  local nginx_pid=$!
  local url="http://127.0.0.1:$nginx_port"
  wait_ready "$url/health/live" "$nginx_pid" || { cat "$DIR/nginx-error.log" >&2; exit 1; }
  echo "$nginx_pid" >"$DIR/nginx.pid"
  echo "$url" >"$DIR/url"
  clog "nginx on 127.0.0.1:$nginx_port (pid $nginx_pid); Ctrl-C or 'bash scripts/cluster.sh stop' stops everything"
  echo "$url"

  trap 'exit 0' INT TERM
  sleep 2147483647 &
  SLEEP_PID=$!
  wait "$SLEEP_PID" || true
}

cmd_stop() {
  local owner
  owner="$(read_state cluster.pid)"
  if alive "$owner"; then
    kill -TERM "$owner"
    local i
    for ((i = 0; i < (DRAIN_SECONDS + 60) * 10; i++)); do alive "$owner" || { clog "stopped"; return 0; }; sleep 0.1; done
    clog "the cluster (pid $owner) did not stop; stopping its processes"
  fi
  stop_cluster_processes
  rm -f "$DIR"/*.pid "$DIR/url"
}

cmd_status() {
  alive "$(read_state cluster.pid)" || { echo "no cluster running ($DIR)"; return 1; }
  echo "url: $(read_state url)"
  local i pid ready
  for i in $(instances); do
    pid="$(read_state "app$i.pid")"
    ready="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$(read_state "app$i.port")/health/ready" || true)"
    echo "instance $i: pid $pid $(alive "$pid" && echo up || echo down), port $(read_state "app$i.port"), metrics :$(read_state "app$i.metrics-port")/metrics, ready $ready"
  done
  pid="$(read_state nginx.pid)"
  echo "nginx: pid $pid $(alive "$pid" && echo up || echo down)"
}

cmd_restart() {
  alive "$(read_state cluster.pid)" || { clog "no cluster running ($DIR)"; exit 1; }
  local targets i
  targets="${1:-$(instances)}"
  for i in $targets; do
    [[ -e "$DIR/app$i.port" ]] || { clog "no instance $i"; exit 1; }
    clog "instance $i: SIGTERM, draining ${DRAIN_SECONDS} s"
    stop_pid "$(read_state "app$i.pid")" $((DRAIN_SECONDS + 30))
    launch_app "$i"
    wait_ready "http://127.0.0.1:$(read_state "app$i.port")/health/ready" "$(read_state "app$i.pid")" || { tail -n 30 "$DIR/app$i.log" >&2; exit 1; }
    clog "instance $i: back (pid $(read_state "app$i.pid"))"
  done
}

case "${1:-}" in
  start) cmd_start "${@:2}" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart) cmd_restart "${@:2}" ;;
  *) echo "usage: bash scripts/cluster.sh start [N] | status | restart [I] | stop" >&2; exit 2 ;;
esac
