#!/usr/bin/env bash
# Installs the Debian 12 packages pa-match builds and tests with. Idempotent:
# installs only what is missing, and runs `apt-get update` only then.
set -euo pipefail

PACKAGES=(
  build-essential clang cmake ninja-build pkg-config git ca-certificates
  libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes (scripts/fuzz.sh)
  protobuf-compiler libprotobuf-dev
  libgrpc++-dev protobuf-compiler-grpc
  libabsl-dev librocksdb-dev libroaring-dev libssl-dev
  openssl
  libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev
  python3 python3-grpcio python3-protobuf
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
