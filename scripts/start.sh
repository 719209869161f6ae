#!/usr/bin/env bash
# Builds pa-match and starts pa-matchd on its embedded default: RocksDB in
# ./data, demo profiles loaded when the store is empty, listening on
# 127.0.0.1:50051. On first start the admin API key is printed and kept in
# ./data/admin.key. Extra arguments go to pa-matchd (see --help).
# Warnings are not errors here (PA_MATCH_WERROR=OFF, even in a build dir
# scripts/test.sh configured): a compiler's false positive must not stop
# the service from building.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh build -DPA_MATCH_WERROR=OFF
exec build/service/pa-matchd --listen 127.0.0.1:50051 --data_dir ./data \
  --taxonomy taxonomy/north_east.json "$@"
