#!/usr/bin/env bash
# Runs the benchmarks of bench/SliceChat.Bench on throwaway PostgreSQL and Redis servers
# (or on SLICECHAT_TEST_POSTGRES / SLICECHAT_TEST_REDIS when set), and prints a Markdown table.
#   bash bench/run.sh            # SLICECHAT_BENCH_SAMPLES=300 by default
#   bash bench/run.sh idle-sockets [count]   # server memory per idle socket, allocation per delivery
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/servers.sh
source "$REPO_ROOT/scripts/servers.sh"
cd "$REPO_ROOT"
dotnet run -c Release --project bench/SliceChat.Bench -- "$@"
