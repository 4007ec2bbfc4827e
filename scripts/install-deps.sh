#!/usr/bin/env bash
# Installs the Debian packages eddy builds, tests and benchmarks with; does nothing when all
# are present. Run as root (CI and the dev machines are), or with sudo available.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsimdjson-dev libsqlite3-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev
  libyaml-cpp-dev libpq-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl jq python3 python3-pytest python3-requests python3-boto3 awscli
  nats-server libnats-dev redis-server wrk
  libarchive-dev autoconf automake libtool  # function code archives; aws-lambda-ric's native build
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
