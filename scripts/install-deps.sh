#!/usr/bin/env bash
# Installs, from Debian 12's packages, whatever the build, the tests and the benchmarks need
# and this machine lacks. Idempotent and quiet when everything is present; needs root
# (or sudo) only when something is missing.
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev ca-certificates libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev libpq-dev libhiredis-dev libjemalloc-dev
)
test_packages=(libgtest-dev libgmock-dev googletest nodejs curl)
bench_packages=(wrk nginx-light procps)

wanted=("${build_packages[@]}")
case "${1:-build}" in
  build) ;;
  test) wanted+=("${test_packages[@]}") ;;
  bench) wanted+=("${test_packages[@]}" "${bench_packages[@]}") ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from outside Debian's package (a machine image's own build): accept any node >= 18.
if [[ " ${missing[*]} " == *" nodejs "* ]] && command -v node >/dev/null &&
   [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 18 ]; then
  missing=("${missing[@]/nodejs}")
fi
read -r -a missing <<<"${missing[*]}"
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
