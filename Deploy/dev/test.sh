#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the whole test suite:
# packages, the private PostgreSQL and Orthanc, the format lint, the build and `swift test`, then
# the engine, DICOM and volume-file tests again under AddressSanitizer.
set -euo pipefail
# shellcheck source=Deploy/dev/prepare.sh
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

echo "== format lint (swift format)"
swift format lint --strict --recursive --parallel Package.swift Sources Tests

echo "== build"
start=$(date +%s)
swift build --build-tests
echo "build took $(($(date +%s) - start)) s"

echo "== tests"
start=$(date +%s)
# The test binary itself, not `swift test`, so that at most six tests run at once: with every test
# started together (Swift Testing's default), 53 suites' databases, Orthancs, Chromiums and networks
# share two cores, and a loaded CI machine once let a DICOM association and an HTTP request wait past
# their 20 s time-outs (the run took 113 s with six at once, 120 s with all).
# NO_COLOR: plain symbols in the log, as `swift test` prints them.
NO_COLOR=1 "$(swift build --show-bin-path)/DelineatePackageTests.xctest" --testing-library swift-testing \
    --experimental-maximum-parallelization-width 6
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
    --filter 'TensorTests|SegmentationTests|EvaluationTests|DicomKitTests|VolumeFilesTests'
echo "sanitized build and tests took $(($(date +%s) - start)) s"
