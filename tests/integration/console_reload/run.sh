# Hot reload from the console: a new plugin, a changed one, one with a
# syntax error (the old version keeps running and the error is shown),
# a deleted one, and plugins().

SOCK="$SB_TMP/console.sock"
con() { timeout 30 "$SB_BIN" console -s "$SOCK" "$@"; }
P="$SB_TMP/plugins"
FIRE='return require("switchboard.plugins").default:fire("greet", "bob")'

mkdir -p "$P"
out=$(con -e 'plugins()')
assert_contains "$out" "(no plugins loaded)" "no plugin at first"

cat >"$P/greet.lua" <<'LUA'
plugin:hook("greet", function(name) return "hello " .. name end)
LUA
out=$(con -e 'reload()'); rc=$?
assert_eq "$rc:$out" "0:reloaded 1 plugin" "reload() picks up a new file"
assert_eq "$(con -e "$FIRE")" "hello bob" "the new plugin's hook runs"
out=$(con -e 'plugins()')
assert_contains "$out" "greet" "plugins() lists it"
assert_contains "$out" "$P/greet.lua" "with its path"

cat >"$P/greet.lua" <<'LUA'
plugin:hook("greet", function(name) return "hi " .. name end)
LUA
out=$(con -e 'reload("greet")'); rc=$?
assert_eq "$rc:$out" "0:reloaded greet" "reload(name) reloads a changed plugin"
assert_eq "$(con -e "$FIRE")" "hi bob" "the changed version runs"

cat >"$P/greet.lua" <<'LUA'
plugin:hook("greet", function(name) return "broken " .. name end
LUA
err=$(con -e 'reload("greet")' 2>&1 >/dev/null); rc=$?
assert_eq "$rc" "1" "reloading a plugin with a syntax error exits 1"
assert_contains "$err" "plugin greet: syntax error" "the syntax error is shown"
assert_contains "$err" "greet.lua:2: ')' expected" "with the file and line"
assert_eq "$(con -e "$FIRE")" "hi bob" "the old version keeps running"
assert_log "plugin greet: syntax error" "the failed reload is logged"

# (A plugin that raises while loading is covered by test_console: its
# log line, "plugin x: runtime error: ...", would trip the runner's
# sanitizer grep for "runtime error:".)

cat >"$P/greet.lua" <<'LUA'
plugin:hook("greet", function(name) return "fixed " .. name end)
LUA
out=$(con -e 'reload()'); rc=$?
assert_eq "$rc:$out" "0:reloaded 1 plugin" "reload() after the fix"
assert_eq "$(con -e "$FIRE")" "fixed bob" "the fixed version runs"

rm "$P/greet.lua"
out=$(con -e 'reload()' -e 'return #plugins()')
assert_eq "$out" "$(printf 'reloaded 0 plugins\n0')" "a deleted plugin is unloaded by reload()"
