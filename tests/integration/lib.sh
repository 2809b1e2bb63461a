# lib.sh: helpers for integration tests, sourced by runner.sh before a
# test's run.sh. Everything talks to 127.0.0.1 only.
#
# Set by the runner: SB_BIN (server binary), SB_TMP (scratch dir, removed
# afterwards), SB_SIP_PORT, SB_HTTP_PORT, SB_LOG (server log file),
# SB_CONF (config file), SB_DB, SB_ADMIN_EMAIL, SB_ADMIN_PASSWORD,
# SB_TEST_DIR (the test's folder), SB_BASE (REST base URL).

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# assert_eq ACTUAL EXPECTED MESSAGE
assert_eq() {
  if [ "$1" != "$2" ]; then fail "$3: expected '$2', got '$1'"; fi
  pass "$3"
}

# assert_contains HAYSTACK NEEDLE MESSAGE
assert_contains() {
  case "$1" in *"$2"*) pass "$3" ;; *) fail "$3: '$2' not in: $1" ;; esac
}

# assert_log PATTERN MESSAGE: the server log has a line matching PATTERN.
assert_log() {
  grep -Eq -- "$1" "$SB_LOG" || fail "$2: no log line matches /$1/"
  pass "$2"
}

# http METHOD PATH [curl args...]: prints "STATUS" then the body, as the
# admin unless the caller passes its own -u.
http_status() { # METHOD URL [curl args...] -> prints status only
  local m=$1 u=$2; shift 2
  curl -s -o /dev/null -w '%{http_code}' -X "$m" "$u" "$@"
}

# sipp_run NAME [sipp args...]: runs a sipp scenario against the server,
# bounded in time, logging to $SB_TMP/NAME.*
sipp_run() {
  local name=$1; shift
  timeout 60 sipp 127.0.0.1:"$SB_SIP_PORT" -i 127.0.0.1 -p 0 \
    -m 1 -timeout 20s -timeout_error -nostdin -trace_err \
    -error_file "$SB_TMP/$name.err" "$@" >"$SB_TMP/$name.out" 2>&1
}
