#!/usr/bin/env bash
# Install every Debian package papersim's build and tests need. Idempotent:
# packages already present are skipped. Used by the README, .ci/run and the
# Dockerfiles. Set PAPERSIM_DEPS_MINIMAL=1 to skip test-only packages
# (scikit-learn, Chromium).
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libcli11-dev libsimdjson-dev libutf8proc-dev libstemmer-dev libopenblas-dev libopenblas-serial-dev
  zlib1g-dev liblzma-dev libzstd-dev libxxhash-dev libgtest-dev libgmock-dev libbenchmark-dev
  libopenmpi-dev openmpi-bin
)
test_pkgs=(python3 python3-numpy python3-scipy python3-sklearn chromium xz-utils zstd
  clang libclang-rt-14-dev)

pkgs=("${build_pkgs[@]}")
if [ "${PAPERSIM_DEPS_MINIMAL:-0}" != "1" ]; then
  pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
