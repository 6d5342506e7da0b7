#!/usr/bin/env bash
# Packs RdmaKv's NuGet packages: every project under src/ whose csproj says
# <IsPackable>true</IsPackable> (RdmaKv.Client and the RdmaKv projects it references), each a .nupkg
# and a .snupkg (symbols), all at the version in src/Directory.Build.props. One dotnet pack builds
# them (in Release) and packs them; nothing else in the solution is built.
# Usage: bash scripts/pack.sh [--no-build] [-c CONFIGURATION] [OUTPUT] [-- more dotnet pack arguments]
#   OUTPUT      where the packages go (default ./artifacts/packages)
#   --no-build  pack what the last build of that configuration left (e.g. after scripts/test.sh)
#   after --     e.g. --version-suffix preview.1
set -euo pipefail
cd "$(dirname "$0")/.."

configuration=Release
output=artifacts/packages
build=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=(--no-build); shift ;;
    -c|--configuration) configuration="$2"; shift 2 ;;
    --) shift; break ;;
    -*) echo "unknown option $1 (usage: bash scripts/pack.sh [--no-build] [-c CONFIGURATION] [OUTPUT] [-- dotnet pack arguments])" >&2; exit 64 ;;
    *) output="$1"; shift ;;
  esac
done

mapfile -t projects < <(grep -l '<IsPackable>true</IsPackable>' src/*/*.csproj)
if [ ${#projects[@]} -eq 0 ]; then
  echo "no project under src/ says <IsPackable>true</IsPackable>" >&2
  exit 1
fi

# A solution filter of the packable projects: one dotnet pack builds them and their references together.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  printf '{ "solution": { "path": "%s", "projects": [' "$PWD/RdmaKv.sln"
  sep=""
  for p in "${projects[@]}"; do printf '%s"%s"' "$sep" "$p"; sep=", "; done
  printf '] } }\n'
} > "$work/packages.slnf"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
mkdir -p "$output"
dotnet pack "$work/packages.slnf" -c "$configuration" "${build[@]}" -o "$output" -nologo -v quiet -nodeReuse:false "$@"
echo "packages in $output:"
for p in "${projects[@]}"; do
  name=$(basename "$p" .csproj)
  ls "$output" | grep -E "^$name\.[0-9]" | grep -E '\.s?nupkg$' | sed 's/^/  /' || true
done
