#!/bin/sh
# Builds and runs the media relay benchmark (bench_media) on 127.0.0.1 and
# prints its table. Arguments are passed to bench_media:
#   bench/media/run.sh [-c 100,500,1000,2000] [-s seconds]
# BUILD_DIR picks the build directory (default: build-bench, a Release
# build of its own next to the sources; configured on first use).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target bench_media -j"$(nproc)" >/dev/null
exec "$build/core/media/bench_media" "$@"
