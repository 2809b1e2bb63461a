#!/usr/bin/env bash
# Switchboard set-up: installs the Debian packages it needs (only the
# missing ones), configures and builds with CMake, then either runs the
# server on embedded defaults or runs every test.
#
#   ./setup.sh serve [switchboard args...]   build, then run the server
#                                            (installs only what building
#                                            and serving need)
#   ./setup.sh test                          build, run all tests (unit,
#                                            spec, integration), then again
#                                            under ASan+UBSan (unit and
#                                            integration); also installs
#                                            the tools the tests drive
#   ./setup.sh package                       build Release with prefix /usr
#                                            in PACKAGE_BUILD_DIR (default
#                                            build-package) and make the
#                                            Debian package there (CPack)
#   ./setup.sh build                         build only
#   ./setup.sh bench [SECONDS]               also installs the benchmark
#                                            tools (sipp, nginx-light,
#                                            kamailio, perf), builds Release
#                                            in BENCH_BUILD_DIR (default
#                                            build-release) and runs
#                                            bench/calls/run.sh there
#
# Environment: BUILD_DIR (default build), ASAN_BUILD_DIR (default
# build-asan), BENCH_BUILD_DIR (default build-release), PACKAGE_BUILD_DIR
# (default build-package), JOBS (default:
# number of cores), SB_SKIP_ASAN=1 skips the sanitizer pass.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
BUILD_DIR=${BUILD_DIR:-build}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
BENCH_BUILD_DIR=${BENCH_BUILD_DIR:-build-release}
PACKAGE_BUILD_DIR=${PACKAGE_BUILD_DIR:-build-package}
JOBS=${JOBS:-$(nproc)}

# Debian packages: build tools and libraries, all that building and
# serving need (TEST_PACKAGES and BENCH_PACKAGES add the rest).
PACKAGES=(
  build-essential cmake pkg-config
  libuv1-dev liblua5.4-dev lua5.4 libsofia-sip-ua-dev node-llhttp
  libxml2-dev libsqlite3-dev libcurl4-openssl-dev libjansson-dev
  libedit-dev libssl-dev
  libsndfile1-dev libspeexdsp-dev libespeak-ng-dev espeak-ng-data libspandsp-dev libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
  libsmpp34-dev
)
# Only for ./setup.sh test: the tools the tests drive (file and systemd's
# systemd-analyze: the package_install test).
TEST_PACKAGES=(
  libcmocka-dev lua-busted sip-tester baresip-core curl sqlite3 python3 tmux
  linphone-cli
  python3-twilio prometheus
  libnet-smpp-perl python3-aiosmtpd
  file systemd
)
# Only for ./setup.sh package: CPack's DEB generator reads ELF files with
# file and finds library dependencies with dpkg-shlibdeps (dpkg-dev).
PACKAGE_PACKAGES=(file dpkg-dev)
# Only for ./setup.sh bench: the RCML web server and the reference SIP proxy
# of bench/calls, and perf for profiling (bench/calls/run.sh PERF=file).
BENCH_PACKAGES=(nginx-light kamailio linux-perf sip-tester curl python3 sqlite3)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "setup: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo=sudo; else
      echo "setup: run as root, or install: ${missing[*]}" >&2; exit 1
    fi
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() { # dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DSB_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

# Integration tests mostly wait on the network and the 20 ms clock, so
# one more runs at once than there are cores; each has its own ports
# (tests/integration/runner.sh). Twice as many starved the ones that time
# audio on a 2-core machine.
run_ctest() { # dir, ctest args...
  local dir=$1; shift
  ctest --test-dir "$dir" --output-on-failure -j "${TEST_JOBS:-$((JOBS + 1))}" "$@"
}

cmd=${1:-serve}
[ $# -gt 0 ] && shift
case "$cmd" in
  serve)
    install_packages
    build "$BUILD_DIR"
    exec "$BUILD_DIR/switchboard" "$@"
    ;;
  build)
    install_packages
    build "$BUILD_DIR"
    ;;
  test)
    PACKAGES+=("${TEST_PACKAGES[@]}")
    install_packages
    build "$BUILD_DIR"
    status=0
    run_ctest "$BUILD_DIR" || status=1
    if [ "${SB_SKIP_ASAN:-0}" != 1 ]; then
      echo "setup: sanitizer pass (AddressSanitizer + UBSan)"
      build "$ASAN_BUILD_DIR" -DSB_SANITIZE=ON
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_ctest "$ASAN_BUILD_DIR" -L 'unit|integration' -LE asan_skip || status=1
    fi
    exit $status
    ;;
  bench)
    PACKAGES+=("${BENCH_PACKAGES[@]}")
    install_packages
    BUILD_TYPE=Release build "$BENCH_BUILD_DIR"
    # Other builds and benchmarks must not share the two cores meanwhile.
    exec flock /tmp/sb-bench.lock bench/calls/run.sh "$BENCH_BUILD_DIR" "$@"
    ;;
  package)
    PACKAGES+=("${PACKAGE_PACKAGES[@]}")
    install_packages
    BUILD_TYPE=Release build "$PACKAGE_BUILD_DIR" -DCMAKE_INSTALL_PREFIX=/usr
    (cd "$PACKAGE_BUILD_DIR" && cpack -G DEB)
    ls "$PACKAGE_BUILD_DIR"/switchboard_*.deb
    ;;
  *)
    echo "usage: ./setup.sh serve|test|build|bench|package" >&2
    exit 2
    ;;
esac
