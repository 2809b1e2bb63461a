-- switchboard.console: the pretty printer, evaluation of console lines,
-- completion, row lists, help and the helpers, against a fake C host and
-- a fake core (the real ones are exercised by tests/unit/test_console.c
-- and tests/integration/console_*).

local function fresh()
  package.loaded["switchboard.console"] = nil
  package.loaded["switchboard.plugins"] = nil
  local logs = {}
  package.loaded["switchboard.core"] = {
    sleep = function () return true end,
    http_request = function () return nil, "network" end,
    log = function (level, msg) logs[#logs + 1] = { level, msg } end,
  }
  local console = require "switchboard.console"
  local host = {
    written = {},
    hooks = { registrations = true },
    level = "info",
  }
  function host.write(id, stream, text)
    host.written[#host.written + 1] = { id, stream, text }
  end
  function host.has(name) return host.hooks[name] == true end
  function host.calls() return nil, "unavailable" end
  function host.numbers() return nil, "unavailable" end
  function host.registrations()
    return { { login = "alice", contact = "sip:alice@10.0.0.1:5060",
               expires_in = 3600 } },
           { "login", "contact", "expires_in" }
  end
  function host.call() return nil, "unavailable" end
  function host.sip_trace() return nil, "unavailable" end
  function host.log_level(name)
    if name then host.level = name end
    return host.level
  end
  function host.stats()
    return { uptime_ms = 3723000, lua_memory = 2 * 1024 * 1024,
             rss = 30 * 1024 * 1024, consoles = 2,
             registered_users = 1, registered_contacts = 2 }
  end
  console.host = host
  return console, host, logs
end

describe("console.pretty", function ()
  local console
  before_each(function () console = fresh() end)

  it("prints scalars like Lua source", function ()
    assert.equal("42", console.pretty(42))
    assert.equal("1.5", console.pretty(1.5))
    assert.equal("math.huge", console.pretty(math.huge))
    assert.equal("0/0", console.pretty(0 / 0))
    assert.equal("nil", console.pretty(nil))
    assert.equal("true", console.pretty(true))
    assert.equal('"a\\"b\\n\\t\\\\"', console.pretty('a"b\n\t\\'))
    assert.equal('"\\0011"', console.pretty("\0011"))
  end)

  it("escapes bytes that are not UTF-8 and keeps UTF-8 text", function ()
    assert.equal('"caf\\xE9"', console.pretty("caf\233"))
    assert.equal('"café"', console.pretty("café"))
  end)

  it("prints arrays first, then sorted keys, on one line when short", function ()
    local s = console.pretty({ 1, 2, b = true, a = "x", [10] = 0 })
    assert.equal('{ 1, 2, [10] = 0, a = "x", b = true }', s)
    assert.equal("{}", console.pretty({}))
    assert.equal('{ ["end"] = 2, ["two words"] = 1 }',
      console.pretty({ ["two words"] = 1, ["end"] = 2 }))
  end)

  it("breaks long tables over indented lines", function ()
    local t = { name = string.rep("x", 40),
                nested = { deep = string.rep("y", 40), more = string.rep("z", 30) } }
    local s = console.pretty(t)
    assert.truthy(s:find('^{\n  name = "x+",\n  nested = {\n    deep = "y+",\n'
      .. '    more = "z+"\n  }\n}$'))
  end)

  it("marks cycles instead of recursing", function ()
    local t = { name = "loop" }
    t.self = t
    t.child = { parent = t }
    local s = console.pretty(t)
    assert.truthy(s:find("self = <cycle: table: 0x%x+>"))
    assert.truthy(s:find("parent = <cycle: table: 0x%x+>"))
  end)

  it("prints a table shared twice (no cycle) in full both times", function ()
    local shared = { 1 }
    assert.equal("{ { 1 }, { 1 } }", console.pretty({ shared, shared }))
  end)

  it("uses __tostring for tables and userdata", function ()
    local obj = setmetatable({}, { __tostring = function () return "call CA1" end })
    assert.equal("{ obj = call CA1 }", console.pretty({ obj = obj }))
    assert.truthy(console.pretty(io.stdout):find("^file %("))
    local bad = setmetatable({}, { __tostring = function () error("boom") end })
    assert.truthy(console.pretty(bad):find("__tostring failed"))
  end)

  it("bounds depth, entries and string length", function ()
    local deep = { { { { { { { { 1 } } } } } } } }
    assert.truthy(console.pretty(deep, { depth = 3 }):find("<table: 0x%x+>"))
    local many = {}
    for i = 1, 300 do many[i] = i end
    assert.truthy(console.pretty(many, { items = 10 }):find("%.%.%. %(290 more%)"))
    assert.truthy(console.pretty(string.rep("a", 100), { strings = 10 })
      :find('^"aaaaaaaaaa"%.%.%. %(100 bytes%)$'))
  end)

  it("names Lua functions by source and line", function ()
    local f = function () end
    assert.truthy(console.pretty(f):find("^function <.*console_spec.lua:%d+>$"))
  end)
end)

describe("console.eval", function ()
  local console, host
  before_each(function () console, host = fresh() end)

  it("tries `return <line>` first", function ()
    local env = {}
    assert.same({ "ok", "3" }, { console.eval(env, "1 + 2", "=console", true, 1) })
    assert.same({ "ok", "hi" }, { console.eval(env, "'hi'", "=console", true, 1) })
    assert.same({ "ok", "1\t2" }, { console.eval(env, "1, 2", "=console", true, 1) })
    assert.same({ "ok", "7" }, { console.eval(env, "=7", "=console", true, 1) })
  end)

  it("runs statements and keeps globals in the console's environment", function ()
    local env = {}
    assert.same({ "ok", "" }, { console.eval(env, "x = 5", "=console", true, 1) })
    assert.same({ "ok", "10" }, { console.eval(env, "x * 2", "=console", true, 1) })
    assert.is_nil(rawget(_G, "x"))
    assert.equal(5, rawget(env, "x"))
    -- Another console does not see it.
    assert.same({ "ok", "nil" }, { console.eval({}, "x", "=console", true, 2) })
  end)

  it("answers incomplete for a chunk that ends early, when interactive", function ()
    local env = {}
    assert.same({ "incomplete" },
      { console.eval(env, "function f(a)", "=console", true, 1) })
    assert.same({ "incomplete" }, { console.eval(env, "x =", "=console", true, 1) })
    assert.same({ "ok", "" },
      { console.eval(env, "function f(a)\nreturn a * 2\nend", "=console", true, 1) })
    assert.same({ "ok", "42" }, { console.eval(env, "f(21)", "=console", true, 1) })
    local st, msg = console.eval(env, "function f(a)", "=stdin", false, 1)
    assert.equal("error", st)
    assert.truthy(msg:find("<eof>"))
  end)

  it("reports syntax errors without waiting for more input", function ()
    local st, msg = console.eval({}, "1 +* 2", "=console", true, 1)
    assert.equal("error", st)
    assert.truthy(msg:find("^console:1:"))
  end)

  it("returns runtime errors with a traceback trimmed to the user's code", function ()
    local env = {}
    console.eval(env, "function boom() error('bad thing') end", "=console", true, 1)
    local st, msg = console.eval(env, "boom()", "=console", true, 1)
    assert.equal("error", st)
    assert.truthy(msg:find("^console:1: bad thing\nstack traceback:"))
    assert.truthy(msg:find("\n%s*console:1: in function"))
    assert.falsy(msg:find("switchboard/console.lua"))
    st, msg = console.eval(env, "error({ code = 1 })", "=console", true, 1)
    assert.equal("error", st)
    assert.truthy(msg:find("^{ code = 1 }"))
  end)

  it("sends print output to the console that ran it", function ()
    local env = {}
    console.eval(env, "print('a', 1, nil)", "=console", true, 7)
    assert.same({ 7, "stdout", "a\t1\tnil\n" }, host.written[1])
  end)
end)

describe("console.complete", function ()
  local console
  before_each(function () console = fresh() end)

  local function complete(env, token)
    local out = console.complete(env, token, 1)
    local list = {}
    for line in out:gmatch("[^\n]+") do list[#list + 1] = line end
    return list
  end

  it("completes globals, helpers, the console's own names and keywords", function ()
    local env = {}
    console.eval(env, "my_value = 1", "=console", true, 1)
    assert.same({ "my_value" }, complete(env, "my_"))
    assert.same({ "registrations", "reload", "repeat", "require", "return" },
      complete(env, "re"))
  end)

  it("completes fields and methods through __index tables", function ()
    local env = {}
    assert.same({ "string.format" }, complete(env, "string.for"))
    assert.same({ "sip.trace" }, complete(env, "sip.t"))
    console.eval(env, "obj = setmetatable({ x = 1 }, "
      .. "{ __index = { run = function() end, y = 2 } })", "=console", true, 1)
    assert.same({ "obj.run", "obj.x", "obj.y" }, complete(env, "obj."))
    assert.same({ "obj:run" }, complete(env, "obj:"))
    console.eval(env, "s = 'text'", "=console", true, 1)
    assert.same({ "s:upper" }, complete(env, "s:up"))
  end)

  it("never calls __index functions and ignores what it cannot resolve", function ()
    local env = {}
    local called = false
    env.trap = setmetatable({}, { __index = function () called = true end })
    assert.same({}, complete(env, "trap.x"))
    assert.same({}, complete(env, "nothing.here"))
    assert.same({}, complete(env, "a(b"))
    assert.is_false(called)
  end)
end)

describe("console helpers", function ()
  local console, host, logs
  before_each(function ()
    console, host, logs = fresh()
  end)

  local function run(code)
    return console.eval({}, code, "=console", true, 1)
  end

  it("lists helpers in help() and marks the ones not wired yet", function ()
    local st, text = run("help()")
    assert.equal("ok", st)
    assert.truthy(text:find("not the plugin sandbox", 1, true))
    assert.truthy(text:find("calls%(%)[^\n]*%[not available yet%]"))
    assert.truthy(text:find("registrations%(%)[^\n]*\n"))
    assert.falsy(text:find("registrations%(%)[^\n]*%[not available yet%]"))
    st, text = run("help('reload')")
    assert.equal("ok", st)
    assert.truthy(text:find("old one keeps running", 1, true))
    st, text = run("help('nope')")
    assert.equal("error", st)
    assert.truthy(text:find("no helper named nope"))
  end)

  it("returns an empty list with a note for a subsystem not there", function ()
    local st, text = run("calls()")
    assert.equal("ok", st)
    assert.truthy(text:find("^%(no calls: not available yet"))
    assert.same({ "ok", "0" }, { run("#calls()") })
    assert.same({ "ok", "nil\tcall control is not available yet: "
      .. "the subsystem behind it is not in this build" }, { run("call('CA1')") })
    st, text = run("sip.trace(true)")
    assert.equal("error", st)
    assert.truthy(text:find("SIP tracing is not available yet"))
  end)

  it("prints rows as an aligned table and keeps them scriptable", function ()
    local st, text = run("registrations()")
    assert.equal("ok", st)
    assert.equal("login  contact                  expires_in\n"
      .. "alice  sip:alice@10.0.0.1:5060  3600\n(1 row)", text)
    assert.same({ "ok", "alice" }, { run("registrations()[1].login") })
  end)

  it("summarises stats() and exposes its fields", function ()
    local st, text = run("stats()")
    assert.equal("ok", st)
    assert.truthy(text:find("uptime%s+1h 02m 03s"))
    assert.truthy(text:find("calls%s+n/a"))
    assert.truthy(text:find("registrations%s+1 users, 2 contacts"))
    assert.truthy(text:find("memory%s+Lua 2.0 MiB, process 30.0 MiB resident"))
    assert.same({ "ok", "2097152" }, { run("stats().memory.lua") })
  end)

  it("gets and sets the log level and writes log lines", function ()
    assert.same({ "ok", "info" }, { run("log.level()") })
    assert.same({ "ok", "debug" }, { run("log.level('debug')") })
    run("log.warn('hello', 1)")
    assert.same({ "warn", "console: hello 1" }, logs[#logs])
  end)

  it("reloads plugins and raises when the new version fails", function ()
    local plugins = require "switchboard.plugins"
    local files = { ["/p/a.lua"] = "plugin:verb('A', {}, function() return 1 end)" }
    plugins.default = plugins.new({
      paths = { "/p" },
      scan = function ()
        local out = {}
        for path in pairs(files) do out[#out + 1] = path:sub(4) end
        table.sort(out)
        return out
      end,
      readfile = function (path) return files[path] end,
    })
    assert.same({ "ok", "reloaded 1 plugin" }, { run("reload()") })
    local st, text = run("plugins()")
    assert.equal("ok", st)
    assert.truthy(text:find(
      "^name%s+verbs%s+hooks%s+routes%s+path\na%s+A%s+/p/a.lua\n%(1 row%)$"))
    files["/p/a.lua"] = "plugin:verb('A', {}, function( return 1 end)"
    st, text = run("reload('a')")
    assert.equal("error", st)
    assert.truthy(text:find("plugin a: syntax error"))
    assert.is_not_nil(plugins.default:verb("A"))
    st, text = run("reload('zzz')")
    assert.equal("error", st)
    assert.truthy(text:find("no plugin named zzz"))
  end)
end)
