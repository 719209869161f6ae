#!/usr/bin/env bash
# Builds pa-match and starts pa-matchd on its embedded default: RocksDB in
# ./data, demo profiles loaded when the store is empty, listening on
# 127.0.0.1:50051. On first start the admin API key is printed and kept in
# ./data/admin.key. Extra arguments go to pa-matchd (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh build
exec build/service/pa-matchd --listen 127.0.0.1:50051 --data_dir ./data \
  --taxonomy taxonomy/north_east.json "$@"
