#!/bin/sh
# Financing throughput (docs/financing.md). Sizes: ENLACE_BENCH_CLAIMS (claims through the door,
# default 200), ENLACE_BENCH_LINES (service lines settled, default 100000). Prints BENCH lines,
# each with a floor measured in the same run and the ratio to it (door transactions of three
# small creates for adjudication; reading and summing the entries for a period's settlement;
# a dictionary sum of the amounts for the ledger settlement). A debug build (what the tests use).
# Reproduce: ENLACE_BENCH_CLAIMS=300 ENLACE_BENCH_LINES=1000000 bench/financing/run.sh
# Run on a quiet machine for figures worth reporting; on a busy one, say so beside them.
set -e
cd "$(dirname "$0")/../.."
swift build --build-tests
ENLACE_BENCH_FINANCING=1 swift test --skip-build --filter FinancingBenchmarks 2>&1 | grep -E "BENCH|passed|failed"
