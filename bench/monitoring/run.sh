#!/bin/sh
# Observation/$stats and $lastn over one patient's year of per-minute heart rate (docs/monitoring.md,
# "Speed"). Size: ENLACE_BENCH_READINGS (default 525600). With ENLACE_TEST_DATABASE_URL set, on
# PostgreSQL too. Prints BENCH lines. Debug build (the project's test build); run on a quiet
# machine for figures worth reporting, and on a busy one say so beside them.
set -e
cd "$(dirname "$0")/../.."
swift build --build-tests
ENLACE_BENCH_MONITORING=1 swift test --skip-build --filter MonitoringBenchmarks 2>&1 | grep -E "BENCH|passed|failed|error"
