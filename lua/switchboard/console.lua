-- switchboard.console: the Lua half of the operator console (the C half
-- is core/console). A console line arrives here as a session's body:
--
--   console.eval(env, code, chunkname, interactive, conn_id)
--     -> "ok", text | "incomplete" | "error", message-with-traceback
--   console.complete(env, token) -> candidates joined by "\n"
--
-- and the results come back as text, pretty-printed here (nested tables,
-- cycles marked, userdata through __tostring). The helpers an operator
-- types (calls(), reload(), stats(), ...) live in console.helpers and are
-- documented by help(), from the texts in console.docs.
--
-- Trust: the console runs in the server's full Lua state, not in the
-- plugin sandbox; only the socket's owner (mode 0600) can reach it.
--
-- Each connection has its own environment table `env` (created empty by
-- the C side): globals a console sets stay in that console; reads fall
-- through to the helpers, then to the server's _G.
--
-- The C side provides the module "switchboard.console.host":
--   write(conn_id, stream, text)    output to a console ("stdout"/"stderr")
--   calls() registrations() numbers()  rows, columns | nil, "unavailable"
--   call(sid)                       call object | nil, reason
--   sip_trace(on)                   previous state | nil, "unavailable"
--   log_level([name])               current level name (raises on a bad one)
--   stats()                         { uptime_ms, lua_memory, rss, consoles,
--                                     calls_active, calls_total,
--                                     calls_per_second, registered_users,
--                                     registered_contacts } (absent: n/a)
--   has(name)                       whether a C hook is wired

local console = {}

local KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return",
  "then", "true", "until", "while",
}
local is_keyword = {}
for _, k in ipairs(KEYWORDS) do
  is_keyword[k] = true
end

-- The C host module (looked up each time: a new console server
-- registers a new one); specs set console.host = fake instead.
function console.get_host()
  return console.host or require "switchboard.console.host"
end

--------------------------------------------------------------------------
-- Pretty printer
--------------------------------------------------------------------------

local ESCAPES = {
  ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\r"] = "\\r",
  ["\t"] = "\\t", ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\v"] = "\\v",
}

-- A Lua string literal that reads back to s; bytes that are not UTF-8
-- are written as \xNN, long strings are cut at max bytes.
function console.quote(s, max)
  local cut = ""
  if max and #s > max then
    cut = ("... (%d bytes)"):format(#s)
    s = s:sub(1, max)
  end
  local valid = utf8.len(s) ~= nil
  s = s:gsub('[%c\\"]', function(c)
    return ESCAPES[c] or ("\\%03d"):format(c:byte())
  end)
  if not valid then
    s = s:gsub("[\128-\255]", function(c)
      return ("\\x%02X"):format(c:byte())
    end)
  end
  return '"' .. s .. '"' .. cut
end

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
    and not is_keyword[k]
end

local function raw_name(v)
  -- tostring without __tostring (it still honours __name).
  local mt = debug.getmetatable(v)
  local ts = mt and rawget(mt, "__tostring")
  if ts == nil then
    return tostring(v)
  end
  rawset(mt, "__tostring", nil)
  local ok, s = pcall(tostring, v)
  rawset(mt, "__tostring", ts)
  return ok and s or type(v)
end

-- The value's own text when its metatable has __tostring, else nil.
local function custom_text(v)
  local mt = debug.getmetatable(v)
  if mt == nil or rawget(mt, "__tostring") == nil then
    return nil
  end
  local ok, s = pcall(tostring, v)
  if not ok then
    return ("<%s: __tostring failed: %s>"):format(raw_name(v), tostring(s))
  end
  if type(s) ~= "string" then
    return ("<%s>"):format(raw_name(v))
  end
  return s
end

local function number_text(x)
  if math.type(x) == "integer" then
    return tostring(x)
  end
  if x ~= x then
    return "0/0"
  elseif x == math.huge then
    return "math.huge"
  elseif x == -math.huge then
    return "-math.huge"
  end
  return tostring(x)
end

local function function_text(f)
  local info = debug.getinfo(f, "S")
  if info and info.what ~= "C" then
    return ("function <%s:%d>"):format(info.short_src, info.linedefined)
  end
  return tostring(f)
end

local TYPE_ORDER = {
  number = 1, string = 2, boolean = 3, table = 4, ["function"] = 5,
  userdata = 6, thread = 7,
}

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    return (TYPE_ORDER[ta] or 9) < (TYPE_ORDER[tb] or 9)
  end
  if ta == "number" or ta == "string" then
    return a < b
  end
  if ta == "boolean" then
    return (not a) and b
  end
  return tostring(a) < tostring(b)
end

-- pretty(v [, opts]): a readable, Lua-like text for any value.
-- opts: depth (nesting shown, 6), items (entries per table, 200),
-- width (a table fits on one line up to this, 78), strings (longest
-- string shown, 4096 bytes). Cycles print as <cycle: table: 0x...>.
function console.pretty(v, opts)
  opts = opts or {}
  local max_depth = opts.depth or 6
  local max_items = opts.items or 200
  local width = opts.width or 78
  local max_string = opts.strings or 4096
  local on_path = {}

  local fmt

  local function key_text(k, indent, depth)
    if is_identifier(k) then
      return k
    end
    return "[" .. fmt(k, indent, depth + 1) .. "]"
  end

  local function table_text(t, indent, depth)
    local own = custom_text(t)
    if own then
      return own
    end
    if on_path[t] then
      return ("<cycle: %s>"):format(raw_name(t))
    end
    if depth > max_depth then
      return ("<%s>"):format(raw_name(t))
    end
    on_path[t] = true
    local inner = indent .. "  "
    local items, shown, total = {}, 0, 0
    -- The array part first, in order, then the other keys sorted.
    local n = 0
    while rawget(t, n + 1) ~= nil do
      n = n + 1
    end
    for i = 1, n do
      total = total + 1
      if shown < max_items then
        shown = shown + 1
        items[#items + 1] = fmt(rawget(t, i), inner, depth + 1)
      end
    end
    local keys = {}
    for k in next, t do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then
        keys[#keys + 1] = k
      end
    end
    table.sort(keys, key_less)
    for _, k in ipairs(keys) do
      total = total + 1
      if shown < max_items then
        shown = shown + 1
        items[#items + 1] = key_text(k, inner, depth) .. " = "
          .. fmt(rawget(t, k), inner, depth + 1)
      end
    end
    on_path[t] = nil
    if total > shown then
      items[#items + 1] = ("... (%d more)"):format(total - shown)
    end
    if #items == 0 then
      return "{}"
    end
    local one = "{ " .. table.concat(items, ", ") .. " }"
    if #one + #indent <= width and not one:find("\n", 1, true) then
      return one
    end
    return "{\n" .. inner .. table.concat(items, ",\n" .. inner) .. "\n"
      .. indent .. "}"
  end

  fmt = function(x, indent, depth)
    local t = type(x)
    if t == "string" then
      return console.quote(x, max_string)
    elseif t == "number" then
      return number_text(x)
    elseif t == "table" then
      return table_text(x, indent, depth)
    elseif t == "function" then
      return function_text(x)
    elseif t == "userdata" then
      return custom_text(x) or raw_name(x)
    end
    return tostring(x)
  end

  return fmt(v, "", 1)
end

-- Text for the values r[i..j] of a packed table: top-level strings as
-- they are (like the standalone lua REPL), everything else pretty;
-- joined by tabs, or by newlines when one of them spans lines.
function console.format_results(r, i, j)
  local parts, multi = {}, false
  for k = i, j do
    local v = r[k]
    local s = type(v) == "string" and v or console.pretty(v)
    multi = multi or s:find("\n", 1, true) ~= nil
    parts[#parts + 1] = s
  end
  return table.concat(parts, multi and "\n" or "\t")
end

--------------------------------------------------------------------------
-- Row lists (calls, registrations, numbers, plugins)
--------------------------------------------------------------------------

local rows_mt = { __name = "rows" }

local function cell(v)
  if v == nil then
    return ""
  elseif type(v) == "table" then
    local parts = {}
    for _, x in ipairs(v) do
      parts[#parts + 1] = tostring(x)
    end
    return table.concat(parts, ", ")
  end
  local s = tostring(v)
  if #s > 80 then                 -- SIDs (69 bytes) stay whole
    s = s:sub(1, 77) .. "..."
  end
  return s
end

-- A rows list prints as an aligned table; it is a plain array otherwise
-- (#list, list[1].sid). meta: columns (order), empty (text when there is
-- no row), note (printed under the table).
rows_mt.__tostring = function(list)
  local meta = rawget(list, "_meta") or {}
  -- _meta is not an array entry: #list counts rows only.
  local cols = meta.columns or {}
  local lines = {}
  if #list == 0 then
    lines[1] = meta.empty or "(none)"
  else
    local w = {}
    for c, name in ipairs(cols) do
      w[c] = #name
      for _, row in ipairs(list) do
        w[c] = math.max(w[c], #cell(row[name]))
      end
    end
    local function line(values)
      local out = {}
      for c = 1, #cols do
        out[c] = values[c] .. string.rep(" ", w[c] - #values[c])
      end
      return (table.concat(out, "  "):gsub("%s+$", ""))
    end
    lines[1] = line(cols)
    for _, row in ipairs(list) do
      local values = {}
      for c, name in ipairs(cols) do
        values[c] = cell(row[name])
      end
      lines[#lines + 1] = line(values)
    end
    lines[#lines + 1] = ("(%d %s)"):format(#list, #list == 1 and "row" or "rows")
  end
  if meta.note then
    lines[#lines + 1] = meta.note
  end
  return table.concat(lines, "\n")
end

function console.rows(list, meta)
  list._meta = meta
  return setmetatable(list, rows_mt)
end

--------------------------------------------------------------------------
-- Help texts
--------------------------------------------------------------------------

-- name -> { usage, summary, text, hook } (hook: the C hook it needs).
console.docs = {
  {
    name = "calls", usage = "calls()", hook = "calls",
    summary = "live calls: sid, from, to, state, duration, legs",
    text = [[
calls()
  Returns the live calls as a list of rows, one per call: sid, from, to,
  direction, state, duration (seconds), legs. It prints as a table and is
  a plain array otherwise: #calls(), calls()[1].sid.]],
  },
  {
    name = "conferences", usage = "conferences()", hook = "conferences",
    summary = "live conference rooms: sid, name, account, members",
    text = [[
conferences()
  Returns the live conference rooms as rows: sid, name, account_sid,
  members (in the room now), muted (of them, muted or held), started
  (false while members wait for a moderator), recording. Mute, hold,
  kick and end are REST actions (docs/rest.md, Conferences).]],
  },
  {
    name = "call", usage = "call(sid)", hook = "call",
    summary = "the call object of a live call (hangup, redirect, ...)",
    text = [[
call(sid)
  Returns the call object of the live call sid, or nil and "not-found".
  Its methods are those plugins use (call:hangup(), call:redirect(url),
  ...); methods that wait (call:answer()) work here too, since every
  console line is its own coroutine.]],
  },
  {
    name = "registrations", usage = "registrations()", hook = "registrations",
    summary = "SIP registrations: login, contact, source, expires",
    text = [[
registrations()
  Returns the live SIP bindings, one row per contact: login, contact,
  source (ip:port/transport the REGISTER came from), user_agent,
  expires_in (seconds).]],
  },
  {
    name = "numbers", usage = "numbers()", hook = "numbers",
    summary = "incoming phone numbers and their applications",
    text = [[
numbers()
  Returns the incoming phone numbers, one row per number: number,
  friendly_name, voice (its application SID, else its Voice URL),
  account_sid, sid.]],
  },
  {
    name = "plugins", usage = "plugins()",
    summary = "loaded plugins with their verbs, hooks and routes",
    text = [[
plugins()
  Returns the loaded plugins, one row each: name, verbs, hooks, routes,
  path.]],
  },
  {
    name = "reload", usage = "reload([name])",
    summary = "hot-reload one plugin, or rescan every plugin folder",
    text = [[
reload(name)
  Compiles and runs the plugin's file again; its old verbs, hooks and
  routes are replaced by the new ones. If the new version fails to
  compile or raises, the old one keeps running and reload raises the
  error (so `switchboard console -e 'reload("x")'` exits 1).
reload()
  Rescans every plugin folder: new files load, deleted ones unload, the
  others reload. Returns a short summary.]],
  },
  {
    name = "sip.trace", usage = "sip.trace(on)", hook = "sip_trace",
    summary = "log every SIP message (true) or stop (false)",
    text = [[
sip.trace(true | false)
  Turns logging of every SIP message sent and received on or off (at
  level info, in the server log). Returns the previous state.]],
  },
  {
    name = "log.level", usage = "log.level([name])",
    summary = "get or set the log level (error warn info debug trace)",
    text = [[
log.level()        returns the current level
log.level("debug") sets it (error, warn, info, debug, trace)
log.info(msg), log.warn(msg), log.error(msg), log.debug(msg)
  write a line to the server log.]],
  },
  {
    name = "stats", usage = "stats()",
    summary = "uptime, calls, calls per second, memory",
    text = [[
stats()
  Returns a table: uptime (seconds), calls { active, total, per_second }
  (per second over the last minute), registrations { users, contacts },
  memory { lua, rss } (bytes), consoles (connected). It prints as a
  summary; its fields are there for scripts: stats().memory.lua.]],
  },
  {
    name = "sleep", usage = "sleep(seconds)",
    summary = "wait without blocking the server",
    text = [[
sleep(seconds)
  Waits (the server goes on serving). Ctrl-C cancels it.]],
  },
  {
    name = "http.request", usage = "http.request{ url = ... }",
    summary = "HTTP request (waits); see docs/plugin-api.md",
    text = [[
http.request{ method = "GET", url = "http://...", params = {...},
              body = "...", headers = {...}, timeout = 10 }
  Returns { status, body, content_type, headers, url } or nil, reason.]],
  },
  {
    name = "help", usage = "help([name])",
    summary = "this text, or the details of one helper",
    text = [[
help()        lists the helpers
help("name")  the details of one, e.g. help("reload")]],
  },
}

local docs_by_name = {}
for _, d in ipairs(console.docs) do
  docs_by_name[d.name] = d
end

local function available(d)
  if d.hook == nil then
    return true
  end
  local host = console.get_host()
  return host.has(d.hook)
end

local NOT_YET = "not available yet: the subsystem behind it is not in this build"

local INTRO = [[
Switchboard console: Lua 5.4 inside the live server. This is the server's
full Lua state, not the plugin sandbox. Each line runs as its own
coroutine, so it may wait (sleep, http.request, call:hangup) without
blocking the server; the instruction limit applies to each run. Lines are
tried as `return <line>` first; results are pretty-printed. Globals you
set stay in this console (use _G.name for the server's).
]]

local KEYS = [[
Keys: Tab completes names and fields, Up/Down walk the history
(~/.switchboard_history), Ctrl-C cancels the line being typed or the
running command, Ctrl-D (or `exit`) leaves. An incomplete statement
continues on the next line (prompt ">>").]]

function console.help_text(name)
  if name ~= nil then
    local d = docs_by_name[name] or docs_by_name[tostring(name):gsub("%(%)$", "")]
    if d == nil then
      return nil, ("no helper named %s; help() lists them"):format(tostring(name))
    end
    local text = d.text
    if not available(d) then
      text = text .. "\n  (" .. NOT_YET .. ")"
    end
    return text
  end
  local lines = { INTRO }
  for _, d in ipairs(console.docs) do
    local line = ("  %-22s %s"):format(d.usage, d.summary)
    if not available(d) then
      line = line .. " [not available yet]"
    end
    lines[#lines + 1] = line
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = KEYS
  return table.concat(lines, "\n")
end

--------------------------------------------------------------------------
-- Helpers (shared by every console; print is per connection)
--------------------------------------------------------------------------

local function human_bytes(n)
  if n == nil then
    return "?"
  end
  local units = { "B", "KiB", "MiB", "GiB" }
  local u = 1
  while n >= 1024 and u < #units do
    n = n / 1024
    u = u + 1
  end
  return u == 1 and ("%d B"):format(n) or ("%.1f %s"):format(n, units[u])
end

local function human_duration(s)
  s = math.floor(s)
  local d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
  s = s % 60
  if d > 0 then
    return ("%dd %02dh %02dm %02ds"):format(d, h, m, s)
  elseif h > 0 then
    return ("%dh %02dm %02ds"):format(h, m, s)
  elseif m > 0 then
    return ("%dm %02ds"):format(m, s)
  end
  return ("%ds"):format(s)
end

local stats_mt = { __name = "stats" }
stats_mt.__tostring = function(st)
  local lines = {}
  local function add(k, v)
    lines[#lines + 1] = ("%-14s %s"):format(k, v)
  end
  add("uptime", human_duration(st.uptime))
  if st.calls then
    add("calls", ("%d active, %d total, %.2f per second (last minute)")
      :format(st.calls.active, st.calls.total, st.calls.per_second or 0))
  else
    add("calls", "n/a (" .. NOT_YET .. ")")
  end
  if st.registrations then
    add("registrations", ("%d users, %d contacts")
      :format(st.registrations.users, st.registrations.contacts))
  else
    add("registrations", "n/a")
  end
  add("memory", ("Lua %s, process %s resident")
    :format(human_bytes(st.memory.lua), human_bytes(st.memory.rss)))
  add("consoles", ("%d connected"):format(st.consoles))
  return table.concat(lines, "\n")
end

-- A rows helper over host[fn]: the rows, or an empty list with a note
-- saying the subsystem is not there (never made-up rows).
local function rows_helper(fn, what, empty)
  return function()
    local host = console.get_host()
    local list, cols = host[fn]()
    if list == nil and cols ~= "unavailable" then
      error(("%s() failed: %s"):format(fn, tostring(cols)), 2)
    end
    if list == nil then
      return console.rows({}, {
        columns = {},
        empty = ("(no %s: %s)"):format(what, NOT_YET),
      })
    end
    return console.rows(list, { columns = cols, empty = empty })
  end
end

local help_mt = {
  __name = "help",
  __tostring = function(h)
    return h.text
  end,
}

local function build_helpers()
  local core = require "switchboard.core"
  local h = {}

  function h.help(name)
    local text, err = console.help_text(name)
    if text == nil then
      error(err, 2)
    end
    -- An object that prints as the text itself (not as a quoted string).
    return setmetatable({ text = text }, help_mt)
  end

  h.calls = rows_helper("calls", "calls", "(no live calls)")
  h.conferences = rows_helper("conferences", "conferences", "(no live conferences)")
  h.registrations = rows_helper("registrations", "registrations",
    "(no registrations)")
  h.numbers = rows_helper("numbers", "numbers", "(no numbers)")

  function h.call(sid)
    if type(sid) ~= "string" then
      error("call(sid): sid must be a string", 2)
    end
    local host = console.get_host()
    if not host.has("call") then
      return nil, "call control is " .. NOT_YET
    end
    return host.call(sid)
  end

  function h.plugins()
    local m = require("switchboard.plugins").default
    local list = m and m:list() or {}
    return console.rows(list, {
      columns = { "name", "verbs", "hooks", "routes", "path" },
      empty = "(no plugins loaded)",
    })
  end

  function h.reload(name)
    if name ~= nil and type(name) ~= "string" then
      error("reload([name]): name must be a string", 2)
    end
    local m = require("switchboard.plugins").default
    local ok, _, msg = m:reload(name)
    if not ok then
      error(msg, 0)
    end
    if name then
      return ("reloaded %s"):format(name)
    end
    local n = 0
    for _ in pairs(m.loaded) do
      n = n + 1
    end
    return ("reloaded %d plugin%s"):format(n, n == 1 and "" or "s")
  end

  h.sip = {
    trace = function(on)
      if type(on) ~= "boolean" then
        error("sip.trace(on): on must be true or false", 2)
      end
      local prev, err = console.get_host().sip_trace(on)
      if prev == nil then
        error("SIP tracing is " .. NOT_YET .. " (" .. tostring(err) .. ")", 2)
      end
      return prev
    end,
  }

  h.log = {
    level = function(name)
      return console.get_host().log_level(name)
    end,
  }
  for _, lvl in ipairs({ "error", "warn", "info", "debug" }) do
    h.log[lvl] = function(...)
      local parts = table.pack(...)
      for i = 1, parts.n do
        parts[i] = tostring(parts[i])
      end
      core.log(lvl, "console: " .. table.concat(parts, " "))
    end
  end

  function h.stats()
    local s = console.get_host().stats()
    local st = {
      uptime = (s.uptime_ms or 0) // 1000,
      memory = { lua = s.lua_memory, rss = s.rss },
      consoles = s.consoles or 0,
    }
    if s.calls_total ~= nil then
      st.calls = {
        active = s.calls_active or 0,
        total = s.calls_total,
        per_second = s.calls_per_second or 0.0,
      }
    end
    if s.registered_users ~= nil then
      st.registrations = {
        users = s.registered_users, contacts = s.registered_contacts or 0,
      }
    end
    return setmetatable(st, stats_mt)
  end

  h.sleep = core.sleep
  h.http = { request = core.http_request }
  return h
end

function console.helpers()
  if console.shared == nil then
    console.shared = build_helpers()
  end
  return console.shared
end

--------------------------------------------------------------------------
-- Environments, evaluation, completion
--------------------------------------------------------------------------

local function output(conn_id, stream, ...)
  local parts = table.pack(...)
  for i = 1, parts.n do
    parts[i] = tostring(parts[i])
  end
  console.get_host().write(conn_id, stream, table.concat(parts, "\t") .. "\n")
end

-- Makes env (a fresh table from C) a console environment, once.
function console.setup_env(env, conn_id)
  if getmetatable(env) ~= nil then
    return env
  end
  local h = console.helpers()
  env.print = function(...)
    output(conn_id, "stdout", ...)
  end
  return setmetatable(env, {
    __index = function(_, k)
      local v = h[k]
      if v ~= nil then
        return v
      end
      return _G[k]
    end,
    __name = "console environment",
  })
end

-- Cuts the frames of this module (below xpcall) from a traceback.
local function traceback(e)
  local msg = e
  if type(e) ~= "string" then
    msg = custom_text(e) or console.pretty(e)
  end
  local tb = debug.traceback(msg, 2)
  local cut = tb:find("\n%s*%[C%]: in function 'xpcall'")
  if cut then
    tb = tb:sub(1, cut - 1)
  end
  return tb
end

-- Compiles code as `return <code>` first, then as it is. Returns the
-- function, or nil, message, incomplete (the chunk ended too early).
function console.compile(code, name, env)
  if code:sub(1, 1) == "=" then
    code = "return " .. code:sub(2)
  end
  local fn = load("return " .. code, name, "t", env)
  if fn then
    return fn
  end
  local err
  fn, err = load(code, name, "t", env)
  if fn then
    return fn
  end
  return nil, err, err:sub(-5) == "<eof>"
end

function console.eval(env, code, name, interactive, conn_id)
  console.setup_env(env, conn_id)
  local fn, err, incomplete = console.compile(code, name or "=console", env)
  if not fn then
    if interactive and incomplete then
      return "incomplete"
    end
    return "error", err
  end
  local r = table.pack(xpcall(fn, traceback))
  if not r[1] then
    return "error", r[2]
  end
  return "ok", console.format_results(r, 2, r.n)
end

-- Keys of v a completion may offer: own keys and those of __index
-- tables (never calling __index functions or __pairs).
local function keys_of(v, out, seen)
  seen = seen or {}
  if v == nil or seen[v] then
    return out
  end
  seen[v] = true
  if type(v) == "table" then
    for k in next, v do
      if type(k) == "string" then
        out[k] = true
      end
    end
  end
  local mt = debug.getmetatable(v)
  local idx = mt and rawget(mt, "__index")
  if type(idx) == "table" then
    keys_of(idx, out, seen)
  end
  return out
end

local function field_of(v, k)
  for _ = 1, 8 do
    if type(v) == "table" then
      local x = rawget(v, k)
      if x ~= nil then
        return x
      end
    end
    local mt = debug.getmetatable(v)
    local idx = mt and rawget(mt, "__index")
    if type(idx) ~= "table" then
      return nil
    end
    v = idx
  end
  return nil
end

local function global_of(env, k)
  local v = rawget(env, k)
  if v ~= nil then
    return v
  end
  v = console.helpers()[k]
  if v ~= nil then
    return v
  end
  return rawget(_G, k)
end

-- Completes token (identifiers joined by "." or ":", as typed before the
-- cursor). Returns the candidates (whole tokens) sorted, joined by "\n".
function console.complete(env, token, conn_id)
  console.setup_env(env, conn_id)
  if type(token) ~= "string" or not token:match("^[%w_%.:]*$") then
    return ""
  end
  local head, sep, partial = token:match("^(.*)([%.:])([%w_]*)$")
  local keys = {}
  local prefix = ""
  if head == nil then
    partial = token
    keys_of(env, keys)
    keys_of(console.helpers(), keys)
    keys_of(_G, keys)
    for _, k in ipairs(KEYWORDS) do
      keys[k] = true
    end
  else
    if head == "" or head:find(":", 1, true) then
      return ""
    end
    local obj
    for part in head:gmatch("[^%.]+") do
      if obj == nil then
        obj = global_of(env, part)
      else
        obj = field_of(obj, part)
      end
      if obj == nil then
        return ""
      end
    end
    if type(obj) == "string" then
      obj = string
    end
    keys_of(obj, keys)
    if sep == ":" then
      for k in pairs(keys) do
        if type(field_of(obj, k)) ~= "function" then
          keys[k] = nil
        end
      end
    end
    prefix = head .. sep
  end
  local out = {}
  for k in pairs(keys) do
    if k:sub(1, #partial) == partial and k:match("^[%a_][%w_]*$")
        and (head == nil or not k:match("^__")) then
      out[#out + 1] = prefix .. k
    end
  end
  table.sort(out)
  return table.concat(out, "\n")
end

return console
