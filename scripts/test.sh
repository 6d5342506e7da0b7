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
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" --blame-hang-timeout 5m "$@"
  runs+=("$name=$?")
done

# Ends with "N passed, N failed"; errors, timeouts, aborts, tests that never ran and a test host
# that crashed count as failed.
exec bash scripts/test-summary.sh "$results" "${runs[@]}"
