#!/bin/sh
# Builds and runs the speech recognition benchmark (bench_asr): N sessions
# fed at real time by one feeder thread, for N = 1, 2, 4, 8 by default, and
# prints its table. Arguments are passed to bench_asr:
#   bench/asr/run.sh [-n 1,2,4,8] [-c decoders] [-u utterances] [-e ms] [-v]
# BUILD_DIR picks the build directory (default: build-bench, a Release
# build of its own next to the sources; configured on first use).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target bench_asr -j"$(nproc)" >/dev/null
exec "$build/core/media/bench_asr" "$@"
