#!/bin/sh
# Conference rooms mixed on one media worker (bench_media -m conference):
# the rooms of 3, 10 and 50 members the issue names, one table each.
#   bench/conference/run.sh [-c calls,calls] [-s seconds]
# (members = 2 x calls). BUILD_DIR as in bench/media/run.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for size in 3 10 50; do
    "$here/../media/run.sh" -m conference -R "$size" -c 250,500,750,1000 -s 6 "$@"
    echo
done
