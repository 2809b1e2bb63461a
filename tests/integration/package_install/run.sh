# package_install: the Debian package, made by CPack from this build and
# unpacked into a throw-away root (dpkg-deb -x; the real / is never
# touched): its layout, control fields and conffile, its postinst run with
# DPKG_ROOT (the switchboard user in the root's own passwd, the state
# folder 0700), its systemd unit (systemd-analyze verify). Then the
# installed binary is started from that root as the package's user, on
# the installed configuration (pointed at this test's ports): REST
# answers with the generated administrator password, `switchboard passwd`
# changes it on the running server and REST takes the new one only.
# Upgrades: the same package again over that data, then the package over
# a database of an older schema (the first two migrations, as an old
# release left it): data kept, the newer migrations applied at start.
#
# The server the runner started (the build tree's) is stopped first: this
# test runs its own on the same ports.
stop_server

bdir=$(dirname "$SB_BIN")
src=$(cd "$SB_TEST_DIR/../../.." && pwd)
[ -f "$bdir/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $bdir"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$bdir/CMakeCache.txt")
if [ "$prefix" = /usr ]; then etc=/etc var=/var; else etc=$prefix/etc var=$prefix/var; fi

# The unprivileged server must reach its binary through this folder.
chmod 0755 "$SB_TMP"
pkg=$SB_TMP/pkg
root=$SB_TMP/root
mkdir -p "$pkg" "$root/etc"

# ---- the package ---------------------------------------------------------------
(cd "$pkg" && timeout 180 cpack --config "$bdir/CPackConfig.cmake" -B "$pkg" -G DEB) \
  >"$SB_TMP/cpack.log" 2>&1 || { cat "$SB_TMP/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$pkg"/switchboard_*.deb 2>/dev/null | head -1)
[ -f "$deb" ] || fail "no .deb made"
pass "cpack made $(basename "$deb")"

dpkg-deb -e "$deb" "$pkg/control" || fail "dpkg-deb -e"
assert_eq "$(cat "$pkg/control/conffiles")" "$etc/switchboard/switchboard.conf.lua" \
  "the configuration is the package's conffile"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libsofia-sip-ua0 liblua5.4-0 libuv1 libsqlite3-0 libcurl4 libjansson4; do
  assert_contains "$depends" "$lib" "Depends has $lib (dpkg-shlibdeps)"
done
# Every dependency names a package this machine has: installable here.
for d in $(echo "$depends" | sed 's/([^)]*)//g; s/,/ /g'); do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" ||
    fail "Depends names $d, which is not an installed package"
done
pass "every Depends entry is an installed package"

# A minimal root: the system's users only.
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
printf 'root:*::\n' >"$root/etc/gshadow"
chmod 0640 "$root/etc/shadow" "$root/etc/gshadow"
host_passwd=$(md5sum /etc/passwd /etc/group)

# install PREVIOUS_VERSION: what dpkg -i does to the root, minus dpkg's
# database: unpack, then the postinst (configure, with the version the
# upgrade comes from, empty on a first install).
install_pkg() {
  dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x"
  DPKG_ROOT=$root "$pkg/control/postinst" configure "$1" || fail "postinst configure '$1'"
}
install_pkg ""
pass "unpacked and configured in the throw-away root"
assert_eq "$(md5sum /etc/passwd /etc/group)" "$host_passwd" "the real /etc/passwd and group untouched"

bin=$root$prefix/bin/switchboard
conf=$root$etc/switchboard/switchboard.conf.lua
state=$root$var/lib/switchboard
unit=$root$prefix/lib/systemd/system/switchboard.service
[ -x "$bin" ] || fail "no $prefix/bin/switchboard"
for f in share/switchboard/lua/switchboard/rcml.lua share/switchboard/plugins/refer.lua \
         share/switchboard/plugins/rcml/dial.lua share/man/man8/switchboard.8.gz; do
  [ -f "$root$prefix/$f" ] || fail "no $prefix/$f"
done
[ -d "$root$prefix/share/switchboard/sounds" ] || fail "no $prefix/share/switchboard/sounds"
[ -f "$conf" ] && [ -f "$unit" ] || fail "no configuration or unit"
if command -v groff >/dev/null; then
  warn=$(zcat "$root$prefix/share/man/man8/switchboard.8.gz" | groff -man -ww -z 2>&1)
  assert_eq "$warn" "" "switchboard(8) formats without warnings"
fi
pass "layout: bin, share/switchboard/{lua,plugins,sounds}, man8, $etc/switchboard, unit"

uid=$(awk -F: '$1 == "switchboard" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "switchboard" { print $4 }' "$root/etc/passwd")
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "postinst made no switchboard user"
assert_eq "$(awk -F: '$1 == "switchboard" { print $7 }' "$root/etc/passwd")" \
  /usr/sbin/nologin "the switchboard user has no shell"
assert_eq "$(stat -c '%a %u %g' "$state")" "700 $uid $gid" \
  "state folder $var/lib/switchboard: 0700, the switchboard user's"

# ---- the configuration and the unit ----------------------------------------------
"$bin" check-config "$conf" >/dev/null || fail "the installed configuration does not check"
# Every key of the schema (core/config/config.c) is shown, and with every
# example uncommented the file still checks.
missing=""
for k in $(sed -n 's/^ *{"\([a-z_]*\)", "\([a-z_]*\)", T_.*/\1.\2/p' "$src/core/config/config.c"); do
  grep -Eq "^(-- )?$k = " "$conf" || missing="$missing $k"
done
assert_eq "$missing" "" "every configuration key is in the installed file"
sed 's/^-- \([a-z_]*\.[a-z_]* = \)/\1/' "$conf" >"$SB_TMP/uncommented.lua"
"$bin" check-config "$SB_TMP/uncommented.lua" >/dev/null ||
  fail "the commented defaults do not check once uncommented"
pass "the commented defaults are valid"

grep -q "^ExecReload=/bin/kill -HUP \$MAINPID" "$unit" || fail "unit: no ExecReload with SIGHUP"
for opt in "User=switchboard" "ProtectSystem=strict" "ReadWritePaths=$var/lib/switchboard" \
           "NoNewPrivileges=yes" "PrivateTmp=yes" "ProtectHome=yes"; do
  grep -qx "$opt" "$unit" || fail "unit: no $opt"
done
pass "unit: own user, hardening, reload with SIGHUP"
if command -v systemd-analyze >/dev/null; then
  # Checked where it lies: its binary in the root, its man page there too.
  mkdir -p "$SB_TMP/unit"
  sed "s|$prefix/bin/switchboard|$bin|g" "$unit" >"$SB_TMP/unit/switchboard.service"
  MANPATH=$root$prefix/share/man systemd-analyze verify "$SB_TMP/unit/switchboard.service" \
    >"$SB_TMP/verify.log" 2>&1 || { cat "$SB_TMP/verify.log" >&2; fail "systemd-analyze verify"; }
  pass "systemd-analyze verify accepts the unit"
else
  echo "note: systemd-analyze not installed; unit not verified" >&2
fi

# ---- the installed server ----------------------------------------------------------
# The installed configuration, pointed at this test's ports.
run_conf=$SB_TMP/installed.conf.lua
cat "$conf" >"$run_conf"
cat >>"$run_conf" <<CONF
store.path = "$state/switchboard.db"
sip.listen = { "udp:127.0.0.1:$SB_SIP_PORT", "tcp:127.0.0.1:$SB_SIP_PORT" }
http.listen = "127.0.0.1:$SB_HTTP_PORT"
media.port_min = $SB_MEDIA_MIN
media.port_max = $((SB_MEDIA_MIN + 99))
CONF
plog=$SB_TMP/installed.log
ppid=""
as_user() { HOME=$state setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }
start_pkg() {
  local before
  before=$(grep -Ec " ready in [0-9]+ ms" "$plog" 2>/dev/null)
  HOME=$state setpriv --reuid="$uid" --regid="$gid" --clear-groups \
    "$bin" -c "$run_conf" >>"$plog" 2>&1 &
  ppid=$!
  for _ in $(seq 100); do
    [ "$(grep -Ec " ready in [0-9]+ ms" "$plog" 2>/dev/null)" -gt "${before:-0}" ] && return 0
    kill -0 "$ppid" 2>/dev/null || { cat "$plog" >&2; fail "installed server exited at start"; }
    sleep 0.1
  done
  cat "$plog" >&2; fail "installed server not ready in 10 s"
}
stop_pkg() {
  [ -n "$ppid" ] || return 0
  kill -TERM "$ppid" 2>/dev/null
  for _ in $(seq 150); do  # a zombie still answers kill -0: read its state
    grep -Eq '^[0-9]+ \(.*\) Z' "/proc/$ppid/stat" 2>/dev/null || [ ! -e "/proc/$ppid" ] && break
    sleep 0.1
  done
  [ -e "/proc/$ppid" ] && ! grep -Eq '^[0-9]+ \(.*\) Z' "/proc/$ppid/stat" 2>/dev/null &&
    { echo "installed server did not stop in 15 s; killing it" >&2; kill -KILL "$ppid"; }
  wait "$ppid"
  local rc=$?
  ppid=""
  assert_eq "$rc" 0 "installed server stopped cleanly"
}
trap '[ -n "$ppid" ] && kill -KILL "$ppid" 2>/dev/null' EXIT

rest() { # USER PASSWORD PATH -> HTTP status
  curl -s -o "$SB_TMP/rest.out" -w '%{http_code}' -u "$1:$2" "$SB_BASE$3"
}

start_pkg
pass "the installed binary starts as the switchboard user"
# The newest schema this binary knows, from its "ready" line.
latest=$(sed -n 's/.*(schema \([0-9]*\))$/\1/p' "$plog" | tail -1)
[ -n "$latest" ] && [ "$latest" -gt 2 ] || fail "no schema version in the ready line"
admin=administrator@company.com
gen=$(sed -n 's/^ *Generated password: *//p' "$plog" | head -1)
[ -n "$gen" ] || fail "no generated administrator password in the log"
assert_eq "$(rest "$admin" "$gen" /Accounts.json)" 200 "REST answers the generated password"
libpath=$(as_user "$bin" console -c "$run_conf" -e 'return package.path')
assert_contains "$libpath" "$root$prefix/share/switchboard/lua/?.lua" \
  "the installed server runs the installed Lua library"

# passwd on the running server: weak refused, then set; REST takes only it.
echo "short" | "$bin" passwd -c "$run_conf" "$admin" 2>"$SB_TMP/passwd.err" &&
  fail "passwd accepted a weak password"
assert_contains "$(cat "$SB_TMP/passwd.err")" "too weak" "passwd refuses a weak password"
echo "nobody-Pw-2026!x" | "$bin" passwd -c "$run_conf" nobody@example.com 2>"$SB_TMP/passwd.err" &&
  fail "passwd accepted an unknown account"
assert_contains "$(cat "$SB_TMP/passwd.err")" "no account nobody@example.com" \
  "passwd names an unknown account"
new_pw='Package-Test-Pw-2026!'
echo "$new_pw" | "$bin" passwd -c "$run_conf" "$admin" >"$SB_TMP/passwd.out" ||
  fail "passwd on the running server: $(cat "$SB_TMP/passwd.out")"
assert_eq "$(rest "$admin" "$new_pw" /Accounts.json)" 200 "REST takes the password set by passwd"
rest "$admin" "$new_pw" "/Accounts/$admin.json" >/dev/null
ac=$(grep -o '"sid": *"AC[0-9a-f]*"' "$SB_TMP/rest.out" | head -1 | grep -o 'AC[0-9a-f]*')
[ -n "$ac" ] || fail "no account SID in $(cat "$SB_TMP/rest.out")"
assert_eq "$(rest "$admin" "$gen" /Accounts.json)" 401 "REST refuses the old password"
# On a terminal: asked twice, never echoed; a mismatch changes nothing.
tty_pw='Terminal-Typed-Pw-2026!'
python3 "$SB_TEST_DIR/pty_passwd.py" "$tty_pw" "other-Pw-2026!" \
  "$bin" passwd -c "$run_conf" "$admin" >"$SB_TMP/tty.out" && fail "passwd took a mismatch"
assert_contains "$(cat "$SB_TMP/tty.out")" "do not match" "passwd refuses a mistyped retype"
python3 "$SB_TEST_DIR/pty_passwd.py" "$tty_pw" "$tty_pw" \
  "$bin" passwd -c "$run_conf" "$admin" >"$SB_TMP/tty.out" ||
  fail "passwd on a terminal: $(cat "$SB_TMP/tty.out")"
case "$(cat "$SB_TMP/tty.out")" in *"$tty_pw"*) fail "passwd echoed the password" ;; esac
assert_contains "$(cat "$SB_TMP/tty.out")" "Retype the new password" "passwd prompts twice on a terminal"
assert_eq "$(rest "$admin" "$tty_pw" /Accounts.json)" 200 "REST takes the password typed without echo"
assert_eq "$(rest "$admin" "$new_pw" /Accounts.json)" 401 "REST refuses the one before"
new_pw=$tty_pw
assert_eq "$(stat -c %u "$state/switchboard.db")" "$uid" \
  "passwd run as root left the database the server's"
[ -z "$(find "$state" ! -user "$uid")" ] || fail "root-owned files in the state folder: $(find "$state" ! -user "$uid")"
pass "every file in the state folder is the switchboard user's"

code=$(curl -s -o "$SB_TMP/app.out" -w '%{http_code}' -u "$admin:$new_pw" \
  "$SB_BASE/Accounts/$ac/Applications.json" \
  --data-urlencode "FriendlyName=Kept over upgrades" --data-urlencode "RcmlUrl=http://127.0.0.1/app.xml")
[ "$code" = 201 ] || [ "$code" = 200 ] || fail "create an application: $code $(cat "$SB_TMP/app.out")"
pass "data created over REST"
stop_pkg

# ---- upgrade: the package again over the data (server stopped) --------------------------
install_pkg "$(dpkg-deb -f "$deb" Version)"
assert_eq "$(stat -c '%a %u' "$state")" "700 $uid" "state folder kept by the upgrade"
[ "$(grep -c '^switchboard:' "$root/etc/passwd")" = 1 ] || fail "the upgrade added a second user"
# passwd on a stopped server.
new_pw2='Package-Upgrade-Pw-2026?'
echo "$new_pw2" | "$bin" passwd -c "$run_conf" "$admin" >/dev/null || fail "passwd on a stopped server"
: >"$plog"
start_pkg
grep -q "migrated to schema version" "$plog" && fail "a current database was migrated again"
assert_eq "$(rest "$admin" "$new_pw2" /Accounts.json)" 200 "the password set while stopped works"
rest "$admin" "$new_pw2" "/Accounts/$ac/Applications.json" >/dev/null
assert_contains "$(cat "$SB_TMP/rest.out")" "Kept over upgrades" "the application survived the upgrade"
stop_pkg

# ---- upgrade from an older schema -------------------------------------------------------
# A database as an old release left it: the first two migrations (the
# real files), an account and an application.
old_db=$state/switchboard.db
rm -f "$old_db" "$old_db-wal" "$old_db-shm"
now=$(date +%s)
old_ac="AC$(printf %s old@example.com | md5sum | cut -c1-32)"
{
  echo "PRAGMA journal_mode=WAL;"
  v=0
  for f in "$src"/core/store/migrations/0001_*.sql "$src"/core/store/migrations/0002_*.sql; do
    v=$((v + 1))
    echo "BEGIN;"; cat "$f"; echo ";"
    echo "INSERT INTO schema_version(version, applied) VALUES ($v, $now); COMMIT;"
  done
  echo "INSERT INTO accounts(sid, email_address, friendly_name, status, role, auth_token,
          password_hash, date_created, date_updated)
        VALUES ('$old_ac', 'old@example.com', 'Old', 'active', 'Administrator',
          '0123456789abcdef0123456789abcdef', 'unusable', $now, $now);"
  echo "INSERT INTO applications(sid, account_sid, friendly_name, rcml_url, date_created, date_updated)
        VALUES ('AP0123456789abcdef0123456789abcdef', '$old_ac', 'From the old release',
          'http://127.0.0.1/old.xml', $now, $now);"
} | sqlite3 "$old_db" >/dev/null || fail "cannot make the old database"
chown "$uid:$gid" "$old_db"* && chmod 0600 "$old_db"*
install_pkg "0.0.1"
: >"$plog"
start_pkg
assert_log_in() { grep -Eq -- "$1" "$plog" || fail "$2: no line matches /$1/"; pass "$2"; }
assert_log_in "migrated to schema version 3$" "the upgrade applied migration 3"
assert_log_in "migrated to schema version $latest$" "the upgrade applied every migration up to $latest"
assert_eq "$(sqlite3 "$old_db" 'SELECT max(version) FROM schema_version')" "$latest" \
  "the old database is at the latest schema"
grep -q "created administrator account" "$plog" && fail "an administrator was made over existing accounts"
old_pw='Old-Account-Pw-2026#'
echo "$old_pw" | "$bin" passwd -c "$run_conf" old@example.com >/dev/null ||
  fail "passwd on the migrated database"
assert_eq "$(rest old@example.com "$old_pw" "/Accounts/$old_ac/Applications.json")" 200 \
  "the old account logs in after passwd"
assert_contains "$(cat "$SB_TMP/rest.out")" "From the old release" "the old application is kept"
stop_pkg
if grep -Eq "AddressSanitizer|LeakSanitizer|\.(c|h):[0-9]+:[0-9]+: runtime error:" "$plog"; then
  grep -E -A30 "AddressSanitizer|LeakSanitizer|runtime error:" "$plog" | head -60 >&2
  fail "sanitizer report in the installed server's log"
fi
