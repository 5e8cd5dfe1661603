#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the whole test suite:
# packages, the private PostgreSQL and Orthanc, the format lint, the build and `swift test`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

bash Deploy/dev/install.sh
bash Deploy/dev/services.sh start
# shellcheck source=/dev/null
source data/dev/env.sh

echo "== format lint (swift format)"
swift format lint --strict --recursive --parallel Package.swift Sources Tests

echo "== build"
start=$(date +%s)
swift build --build-tests
echo "build took $(($(date +%s) - start)) s"

echo "== tests"
start=$(date +%s)
swift test --skip-build --parallel --num-workers 2
echo "tests took $(($(date +%s) - start)) s"
