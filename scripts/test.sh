#!/usr/bin/env bash
# Runs every RdmaKv test: installs what the tests need when it is missing, builds the solution
# in Release, runs each test project, and ends with one line "N passed, N failed".
# Usage: bash scripts/test.sh [extra dotnet test arguments, e.g. --filter Name~Growth]
set -uo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use. Installed only when missing (needs root, as on CI).
# docker-compose (to check docker-compose.yml) and systemd (systemd-analyze for the unit file)
# come without their recommendations: the tests need no Docker engine. etcd-server is the real
# etcd that the coordination tests start (tests/Shared/EtcdProcess.cs), also without recommendations.
# redis-tools (redis-cli) talks to the RESP gateway in its tests.
packages=(libucx0 libucx-dev gcc chromium iproute2 docker-compose systemd etcd-server redis-tools)
lean=" docker-compose systemd etcd-server "
for p in "${packages[@]}"; do
  if ! dpkg -s "$p" >/dev/null 2>&1; then
    echo "installing $p"
    if [ "$(id -u)" = 0 ]; then
      flags=(-y -qq)
      [[ "$lean" == *" $p "* ]] && flags+=(--no-install-recommends)
      apt-get update -qq && apt-get install "${flags[@]}" "$p" >/dev/null || { echo "could not install $p"; exit 1; }
    else
      echo "the tests need the Debian package $p: run 'sudo apt-get install -y $p'"; exit 1
    fi
  fi
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if ! dotnet build RdmaKv.sln -c Release -nologo -v quiet; then
  echo "the build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

results=TestResults
rm -rf "$results"
runs=()
run_tests() {
  local name=$1
  shift
  dotnet test "tests/$name/$name.csproj" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" --blame-hang-timeout 5m "$@"
}

# Two lanes, to use the second core while the other waits on processes. The deployment tests
# (a replay of the Dockerfile's build in a copy of the sources, then local clusters on fixed
# ports 7401-7403, 7481-7483 and 23790 that no other test takes) run in the background while the
# light projects run here; the heavy, timing-bound EndToEnd and Verification run alone after.
# The deployment tests' output follows the light lane's.
background=RdmaKv.Deploy.Tests
last=" RdmaKv.EndToEnd.Tests RdmaKv.Verification "
background_log=$(mktemp)
run_tests "$background" "$@" >"$background_log" 2>&1 &
background_pid=$!
ordered=()
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  [ "$name" = "$background" ] && continue
  [[ "$last" == *" $name "* ]] && continue
  ordered+=("$name")
done
for name in $last; do [ -f "tests/$name/$name.csproj" ] && ordered+=("__wait__" "$name"); done
waited=
for name in "${ordered[@]}"; do
  if [ "$name" = "__wait__" ]; then
    if [ -z "$waited" ]; then
      wait "$background_pid"
      code=$?
      echo "== $background (ran beside the projects above)"
      cat "$background_log"
      rm -f "$background_log"
      runs+=("$background=$code")
      waited=1
    fi
    continue
  fi
  echo "== $name"
  run_tests "$name" "$@"
  runs+=("$name=$?")
done
if [ -z "$waited" ]; then
  wait "$background_pid"
  runs+=("$background=$?")
  echo "== $background (ran beside the projects above)"
  cat "$background_log"
  rm -f "$background_log"
fi

# Ends with "N passed, N failed"; errors, timeouts, aborts, tests that never ran and a test host
# that crashed count as failed.
exec bash scripts/test-summary.sh "$results" "${runs[@]}"
