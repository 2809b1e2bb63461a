#!/bin/sh
# Builds and runs the playback benchmark (bench_play) on 127.0.0.1 and
# prints its table. Arguments are passed to bench_play:
#   bench/play/run.sh [-c 1000,2000,3000,4000] [-s seconds] [-n nice]
# BUILD_DIR picks the build directory (default: build-release, a Release
# build of its own next to the sources; configured on first use). The run
# holds /tmp/sb-bench.lock so that no other benchmark shares the CPUs.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-release}
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target bench_play -j2 >/dev/null
exec 9>/tmp/sb-bench.lock
if ! flock -n 9; then
    echo "waiting for another benchmark (/tmp/sb-bench.lock)" >&2
    flock 9
fi
exec "$build/core/media/bench_play" "$@"
