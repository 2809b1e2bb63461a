# The interactive console through a real pseudo-terminal (tmux): line
# editing, history, Tab completion, multi-line input, Ctrl-C on the line
# being typed and on a running command, Ctrl-D, the history file.

command -v tmux >/dev/null || fail "tmux is not installed"
SOCK="$SB_TMP/console.sock"
TM="$SB_TMP/tmux.sock"
tm() { tmux -S "$TM" "$@"; }
# Every failure goes through fail: stop tmux (and the client in it) too.
fail() { tm kill-server 2>/dev/null; echo "FAIL: $*" >&2; exit 1; }

# typed TEXT: literal keys (so "end" is not the End key); key NAME...:
# named keys (Enter, C-c, Up, Tab).
typed() { tm send-keys -t con -l "$1"; }
key() { tm send-keys -t con "$@"; }
# screen: the pane's text, wrapped lines joined.
screen() { tm capture-pane -p -J -S -200 -t con; }
# wait_screen REGEX MESSAGE: until the pane matches (10 s at most).
wait_screen() {
  for _ in $(seq 100); do
    screen | grep -Eq -- "$1" && { pass "$2"; return 0; }
    sleep 0.1
  done
  screen >&2
  fail "$2: the screen never matched /$1/"
}
# prompts: prompt lines so far; settled N: until there are more than N
# and the last line is an empty prompt (the client reads the next line,
# so keys typed now are not type-ahead).
prompts() { screen | grep -c '^sb>'; }
settled() {
  for _ in $(seq 100); do
    if [ "$(prompts)" -gt "$1" ] && screen | grep -v '^$' | tail -1 | grep -Eq '^sb>>? $'; then
      return 0
    fi
    sleep 0.1
  done
  screen >&2
  fail "no new prompt after line $1"
}
# line TEXT: types TEXT, Enter, and waits for the next prompt.
line() { local n; n=$(prompts); typed "$1"; key Enter; settled "$n"; }
# interrupt: Ctrl-C, then wait for the next prompt.
interrupt() { local n; n=$(prompts); key C-c; settled "$n"; }
# count REGEX: lines of the pane that match.
count() { screen | grep -Ec -- "$1"; }
# evals: eval requests the server has logged (log.level is debug).
evals() { grep -Ec "console [0-9]+: eval [0-9]+" "$SB_LOG"; }
wait_evals() {
  for _ in $(seq 100); do
    [ "$(evals)" -ge "$1" ] && return 0
    sleep 0.1
  done
  fail "the server never received eval number $1"
}

tm new-session -d -s con -x 120 -y 50 \
  "env HOME='$SB_TMP' TERM=xterm '$SB_BIN' console -s '$SOCK'; echo EXITED:\$?; sleep 30"
wait_screen '^sb> $' "the prompt appears"
assert_contains "$(screen)" "help() lists the helpers" "the banner points at help()"

line '1 + 1'
wait_screen '^2$' "an expression is evaluated and printed"

# Multi-line input: the prompt changes while the chunk is incomplete.
line 'function double(n)'
wait_screen '^sb>> $' "an incomplete chunk asks for more with sb>>"
line '  return n * 2'
line 'end'
line 'double(21)'
wait_screen '^42$' "the multi-line function was defined and runs"

# Line editing: Ctrl-A goes to the start of the line.
n=$(prompts); typed '1 + 2'; key C-a; typed '10'; key Enter; settled "$n"
wait_screen '^103$' "Ctrl-A then typing edits the line (101 + 2)"
# History: Up recalls it.
n=$(prompts); key Up; key Enter; settled "$n"
for _ in $(seq 100); do [ "$(count '^103$')" -ge 2 ] && break; sleep 0.1; done
assert_eq "$(count '^103$')" "2" "Up recalls the previous line"

# Tab completion, answered by the server.
typed 'string.for'; key Tab
wait_screen '^sb> string\.format$' "Tab completes string.for to string.format"
line '("%d!", 7)'
wait_screen '^7!$' "the completed line runs"
line 'my_value = 5'
typed 'my_v'; key Tab
wait_screen '^sb> my_value$' "Tab completes the console's own globals"
line ' * 3'
wait_screen '^15$' "and the line runs"
typed 'string.u'; key Tab
wait_screen '^unpack +upper *$' "a Tab with several candidates lists them"
interrupt

# Ctrl-C drops the line being typed.
before=$(evals)
typed 'error("must not run")'
interrupt
wait_screen '\^C$' "Ctrl-C drops the line"
line '3 * 3'
wait_screen '^9$' "the next line runs"
assert_eq "$(count 'must not run"\)$|stack traceback')" "0" "the dropped line never ran"
assert_eq "$(evals)" "$((before + 1))" "only the next line reached the server"

# Ctrl-C in a continuation drops the whole chunk.
line 'for i = 1, 3 do'
wait_screen '^sb>> $' "a continuation prompt"
interrupt
line '"fresh"'
wait_screen '^fresh$' "Ctrl-C in a continuation starts afresh"

# Ctrl-C cancels a running command; the console stays usable.
n=$(evals)
typed 'sleep(60)'; key Enter
wait_evals $((n + 1))
interrupt
wait_screen '^canceled$' "Ctrl-C cancels the running command"
line '5 + 5'
wait_screen '^10$' "the console goes on after a cancel"

# Errors come with a traceback.
line 'error("shown")'
wait_screen '^console:1: shown$' "an error is shown"
wait_screen 'stack traceback:' "with a traceback"

# Ctrl-D leaves with status 0, and the history was saved.
key C-d
wait_screen '^EXITED:0$' "Ctrl-D leaves with status 0"
H="$SB_TMP/.switchboard_history"
[ -f "$H" ] || fail "no history file at $H"
assert_eq "$(stat -c %a "$H")" "600" "the history file is mode 0600"
grep -q 'double(21)' "$H" || fail "the history file lacks the lines typed"
pass "the history file holds the lines typed"
grep -q 'must not run' "$H" && fail "a dropped line was saved in the history"
pass "a dropped line is not in the history"
tm kill-server 2>/dev/null
