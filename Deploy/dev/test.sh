#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the whole test suite:
# packages, the private PostgreSQL and Orthanc, the format lint, the build and `swift test`, then
# the engine, DICOM and volume-file tests again under AddressSanitizer.
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

# The engine's C kernels, DICOM parsing and the volume readers once more under AddressSanitizer:
# an out-of-bounds write there corrupts the heap silently and crashes much later (session 8 found one
# this way that no assertion could see). A separate build folder, so the plain build stays as it is.
echo "== engine, DICOM and volume files under AddressSanitizer"
start=$(date +%s)
swift build --build-tests --sanitize=address --scratch-path .build/asan
# Leak detection is off: Foundation's Process keeps a few bytes per child process for good, and a
# leak of ours costs memory, not correctness; the out-of-bounds and use-after-free checks stay on.
ASAN_OPTIONS=detect_leaks=0 swift test --skip-build --sanitize=address --scratch-path .build/asan \
    --filter 'TensorTests|SegmentationTests|DicomKitTests|VolumeFilesTests'
echo "sanitized build and tests took $(($(date +%s) - start)) s"
