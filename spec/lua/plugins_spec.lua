-- switchboard.plugins: loading, sandboxing, registrations, reload,
-- hook chains.
local plugins = require "switchboard.plugins"

-- A manager over in-memory files: files[path] = source.
local function manager(files, opts)
  opts = opts or {}
  local logs = {}
  local m = plugins.new({
    paths = opts.paths or { "/p" },
    options = opts.options or {},
    scan = function (dir)
      local out = {}
      for path in pairs(files) do
        local rel = path:match("^" .. dir:gsub("%p", "%%%0") .. "/(.+%.lua)$")
        if rel then
          out[#out + 1] = rel
        end
      end
      table.sort(out)
      return out
    end,
    readfile = function (path)
      local src = files[path]
      if src == nil then
        return nil, path .. ": No such file or directory"
      end
      return src
    end,
    log = function (level, msg)
      table.insert(logs, { level = level, msg = msg })
    end,
    globals = opts.globals,
  })
  return m, logs
end

local function logged(logs, pattern)
  for _, l in ipairs(logs) do
    if l.msg:find(pattern) then
      return l
    end
  end
  return nil
end

describe("switchboard.plugins", function ()
  it("names plugins after their relative path", function ()
    assert.are.equal("rcml.pause", plugins.name_of("rcml/pause.lua"))
    assert.are.equal("visual_designer", plugins.name_of("visual_designer.lua"))
  end)

  it("loads every file and registers its verbs and hooks", function ()
    local m = manager({
      ["/p/a.lua"] = [[plugin:verb("A", {}, function () return true end)]],
      ["/p/sub/b.lua"] = [[plugin:hook("ev", function () return "b" end)]],
    })
    local failed = m:load_all()
    assert.are.equal(0, failed)
    assert.is_not_nil(m:verb("A"))
    assert.are.equal("a", m:verb("A").plugin)
    assert.are.equal("b", m:fire("ev"))
    assert.is_not_nil(m.loaded["sub.b"])
  end)

  it("gives each plugin its own environment and a plugin object", function ()
    local m = manager({
      ["/p/one.lua"] = [[
        shared = "one"
        plugin:hook("who", function () return plugin.name, shared, type(io), type(os.execute) end)
      ]],
      ["/p/two.lua"] = [[shared = "two"]],
    })
    m:load_all()
    local name, shared, io_type, exec_type = m:fire("who")
    assert.are.equal("one", name)
    assert.are.equal("one", shared)
    assert.are.equal("nil", io_type)
    assert.are.equal("nil", exec_type)
    assert.is_nil(rawget(_G, "shared"))
  end)

  it("makes the plugin object read-only", function ()
    local m, logs = manager({ ["/p/x.lua"] = [[plugin.name = "y"]] })
    assert.are.equal(1, m:load_all())
    assert.is_not_nil(logged(logs, "read%-only"))
  end)

  -- Issue 23: rawset wrote past the metatable and shadowed the object's
  -- fields and methods.
  it("keeps rawset from shadowing the plugin object", function ()
    local m, logs = manager({
      ["/p/x.lua"] = [[rawset(plugin, "name", "y")]],
      ["/p/z.lua"] = [[
        local ok = pcall(rawset, plugin, "verb", function () end)
        plugin:verb("Z", {}, function () return ok end)
      ]],
    })
    assert.are.equal(1, m:load_all())
    assert.is_not_nil(logged(logs, "rawset of 'name'"))
    assert.is_false(m:verb("Z").fn())
  end)

  it("passes options from plugins.options by name or dotted path", function ()
    local m = manager({
      ["/p/a.lua"] = [[plugin:hook("o", function () return plugin:option_integer("n", 1), plugin.options.s end)]],
      ["/p/rcml/b.lua"] = [[plugin:hook("p", function () return plugin:option_boolean("on", false) end)]],
    }, { options = { a = { n = 5, s = "x" }, rcml = { b = { on = true } } } })
    m:load_all()
    local n, s = m:fire("o")
    assert.are.equal(5, n)
    assert.are.equal("x", s)
    assert.is_true(m:fire("p"))
  end)

  it("refuses an option of the wrong type at load time", function ()
    local m, logs = manager({ ["/p/a.lua"] = [[local v = plugin:option_boolean("on", false)]] },
      { options = { a = { on = "yes" } } })
    assert.are.equal(1, m:load_all())
    assert.is_not_nil(logged(logs, "plugins.options.a.on: boolean expected"))
  end)

  it("skips a plugin disabled with enabled = false", function ()
    local m = manager({ ["/p/a.lua"] = [[plugin:verb("A", function () end)]] },
      { options = { a = { enabled = false } } })
    assert.are.equal(0, m:load_all())
    assert.is_nil(m:verb("A"))
    assert.is_nil(m.loaded.a)
  end)

  it("lets the first path win a name", function ()
    local m = manager({
      ["/local/visual_designer.lua"] = [[plugin:hook("which", function () return "local" end)]],
      ["/p/visual_designer.lua"] = [[plugin:hook("which", function () return "shipped" end)]],
    }, { paths = { "/local", "/p" } })
    m:load_all()
    assert.are.equal("local", m:fire("which"))
    assert.are.equal("/local/visual_designer.lua", m.loaded.visual_designer.path)
  end)

  it("reports a syntax error, a runtime error, and loads the rest", function ()
    local m, logs = manager({
      ["/p/bad_syntax.lua"] = [[plugin:verb("X", {}, function () end]],
      ["/p/bad_runtime.lua"] = [[error("boom")]],
      ["/p/good.lua"] = [[plugin:verb("Good", function () end)]],
    })
    local failed, first = m:load_all()
    assert.are.equal(2, failed)
    assert.matches("plugin bad_runtime: runtime error: .*boom", first)
    assert.is_not_nil(logged(logs, "plugin bad_syntax: syntax error"))
    assert.is_not_nil(m:verb("Good"))
    assert.is_nil(m.loaded.bad_runtime)
  end)

  it("does not register anything of a plugin that failed half-way", function ()
    local m = manager({
      ["/p/half.lua"] = [[
        plugin:verb("Half", function () end)
        plugin:hook("ev", function () return 1 end)
        error("later failure")
      ]],
    })
    assert.are.equal(1, m:load_all())
    assert.is_nil(m:verb("Half"))
    assert.is_nil(m:fire("ev"))
  end)

  it("refuses a verb that another plugin provides", function ()
    local m, logs = manager({
      ["/p/a.lua"] = [[plugin:verb("Pause", function () return "a" end)]],
      ["/p/b.lua"] = [[plugin:verb("Pause", function () return "b" end)]],
    })
    assert.are.equal(1, m:load_all())
    assert.are.equal("a", m:verb("Pause").plugin)
    assert.is_not_nil(logged(logs, "already provided by plugin a"))
  end)

  it("checks registration arguments", function ()
    local m, logs = manager({
      ["/p/a.lua"] = [[plugin.verb("X", {}, function () end)]],
      ["/p/b.lua"] = [[plugin:hook("", function () end)]],
      ["/p/c.lua"] = [[plugin:route("GET", "no-slash", function () end)]],
      ["/p/d.lua"] = [[plugin:log("loud", "x")]],
    })
    assert.are.equal(4, m:load_all())
    assert.is_not_nil(logged(logs, "call it as plugin:verb"))
    assert.is_not_nil(logged(logs, "event must be a string"))
    assert.is_not_nil(logged(logs, "path must start with /"))
    assert.is_not_nil(logged(logs, "unknown level 'loud'"))
  end)

  it("logs through plugin:log and print with the plugin name", function ()
    local m, logs = manager({ ["/p/talk.lua"] = [[
      plugin:log("warn", "n=%d", 3)
      print("hello", 1)
    ]] })
    m:load_all()
    assert.are.same({ level = "warn", msg = "[talk] n=3" }, logged(logs, "n=3"))
    assert.are.same({ level = "info", msg = "[talk] hello\t1" }, logged(logs, "hello"))
  end)

  describe("hooks", function ()
    it("run by priority, then registration order; the first non-nil wins", function ()
      local calls = {}
      local m = manager({ ["/p/h.lua"] = [[
        plugin:hook("ev", function () trace("low") end, -5)
        plugin:hook("ev", function () trace("zero-1") end)
        plugin:hook("ev", function () trace("high"); return nil end, 10)
        plugin:hook("ev", function () trace("zero-2"); return "won", 2 end)
        plugin:hook("ev", function () trace("zero-3"); return "late" end)
      ]] }, { globals = { trace = function (s) table.insert(calls, s) end } })
      m:load_all()
      local r1, r2 = m:fire("ev")
      assert.are.equal("won", r1)
      assert.are.equal(2, r2)
      assert.are.same({ "high", "zero-1", "zero-2" }, calls)
    end)

    it("pass the arguments and return false as a result", function ()
      local m = manager({ ["/p/h.lua"] = [[
        plugin:hook("ev", function (a, b) return a + b == 3 and false end)
        plugin:hook("ev", function () return "not reached" end)
      ]] })
      m:load_all()
      assert.is_false(m:fire("ev", 1, 2))
    end)

    it("log a failing handler with its plugin and go on", function ()
      local m, logs = manager({
        ["/p/a_bad.lua"] = [[plugin:hook("ev", function () error("bad handler") end, 5)]],
        ["/p/b_good.lua"] = [[plugin:hook("ev", function () return "ok" end)]],
      })
      m:load_all()
      assert.are.equal("ok", m:fire("ev"))
      local l = logged(logs, "plugin a_bad: hook ev failed")
      assert.is_not_nil(l)
      assert.are.equal("error", l.level)
      assert.matches("bad handler", l.msg)
    end)

    it("return nil for an event nobody handles", function ()
      local m = manager({})
      assert.is_nil(m:fire("nothing"))
    end)
  end)

  describe("reload", function ()
    it("swaps in the new version and drops the old registrations", function ()
      local files = { ["/p/a.lua"] = [[
        plugin:hook("ev", function () return "v1" end)
        plugin:verb("Old", function () end)
      ]] }
      local m = manager(files)
      m:load_all()
      files["/p/a.lua"] = [[
        plugin:hook("ev", function () return "v2" end)
        plugin:verb("New", function () end)
      ]]
      assert.is_true(m:reload("a"))
      assert.are.equal("v2", m:fire("ev"))
      assert.is_nil(m:verb("Old"))
      assert.is_not_nil(m:verb("New"))
      assert.are.equal(1, #m.hooks.ev)
    end)

    it("keeps the old version when the new one does not compile", function ()
      local files = { ["/p/a.lua"] = [[plugin:hook("ev", function () return "v1" end)]] }
      local m = manager(files)
      m:load_all()
      files["/p/a.lua"] = [[plugin:hook("ev", function () return "v2" end]]
      local ok, kind, msg = m:reload("a")
      assert.is_nil(ok)
      assert.are.equal("syntax", kind)
      assert.matches("plugin a: syntax error", msg)
      assert.are.equal("v1", m:fire("ev"))
    end)

    it("keeps the old version when the new one raises while loading", function ()
      local files = { ["/p/a.lua"] = [[plugin:verb("Pause", function () return "v1" end)]] }
      local m = manager(files)
      m:load_all()
      files["/p/a.lua"] = [[
        plugin:verb("Pause", function () return "v2" end)
        error("oops")
      ]]
      local ok, kind = m:reload("a")
      assert.is_nil(ok)
      assert.are.equal("runtime", kind)
      assert.are.equal("v1", m:verb("Pause").fn())
    end)

    it("lets a plugin re-register its own verb", function ()
      local files = { ["/p/a.lua"] = [[plugin:verb("Pause", function () return 1 end)]] }
      local m = manager(files)
      m:load_all()
      assert.is_true(m:reload("a"))
      assert.are.equal(1, m:verb("Pause").fn())
    end)

    it("rescans: new files load, vanished files unload", function ()
      local files = { ["/p/a.lua"] = [[plugin:verb("A", function () end)]] }
      local m = manager(files)
      m:load_all()
      files["/p/a.lua"] = nil
      files["/p/b.lua"] = [[plugin:verb("B", function () end)]]
      assert.is_true(m:reload())
      assert.is_nil(m:verb("A"))
      assert.is_not_nil(m:verb("B"))
    end)

    it("logs one line per plugin with its result on a rescan", function ()
      local files = {
        ["/p/a.lua"] = [[plugin:verb("A", function () end)]],
        ["/p/c.lua"] = [[this is not Lua]],
      }
      local m, logs = manager(files)
      m:load_all()
      assert.is_nil(m:reload())
      assert.is_not_nil(logged(logs, "^plugin a: reloaded$"))
      assert.is_not_nil(logged(logs, "^plugin c: syntax error"))
    end)

    it("reports an unknown plugin", function ()
      local m = manager({})
      local ok, kind = m:reload("nope")
      assert.is_nil(ok)
      assert.are.equal("not-found", kind)
    end)

    it("does not call a handler removed during the chain", function ()
      local files = {}
      local m
      files["/p/a.lua"] = [[plugin:hook("ev", function () unload_b() end, 10)]]
      files["/p/b.lua"] = [[plugin:hook("ev", function () return "b ran" end)]]
      m = manager(files, { globals = { unload_b = function () m:unload("b") end } })
      m:load_all()
      assert.is_nil(m:fire("ev"))
    end)
  end)

  it("unload removes every registration", function ()
    local m = manager({ ["/p/a.lua"] = [[
      plugin:verb("A", function () end)
      plugin:hook("ev", function () return 1 end)
      plugin:route("GET", "/x", function () end)
    ]] })
    m:load_all()
    assert.is_not_nil(m:route("GET", "/x"))
    assert.is_true(m:unload("a"))
    assert.is_nil(m:verb("A"))
    assert.is_nil(m:fire("ev"))
    assert.is_nil(m:route("GET", "/x"))
    assert.is_nil(m:unload("a"))
  end)

  it("lists plugins with what they registered", function ()
    local m = manager({ ["/p/a.lua"] = [[
      plugin:verb("B", function () end)
      plugin:verb("A", function () end)
      plugin:hook("ev", function () end)
    ]] })
    m:load_all()
    local list = m:list()
    assert.are.equal(1, #list)
    assert.are.same({ "A", "B" }, list[1].verbs)
    assert.are.same({ "ev" }, list[1].hooks)
  end)

  describe("match_route", function ()
    local function routes()
      local m = manager({ ["/p/r.lua"] = [[
        plugin:route("GET", "/queue/{id}", function () return "item" end)
        plugin:route("GET", "/queue/latest", function () return "latest" end)
        plugin:route("POST", "//queue/{id}/", function () return "post" end)
        plugin:route("*", "/any/{x}", function () return "any" end)
        plugin:route("GET", "/any/{x}", function () return "get" end)
        plugin:route("GET", "/{a}/fixed", function () return "a-fixed" end)
        plugin:route("GET", "/fixed/{b}", function () return "fixed-b" end)
      ]] })
      assert.are.equal(0, m:load_all())
      return m
    end

    it("captures {name} segments", function ()
      local r, caps = routes():match_route("GET", "/queue/7")
      assert.are.equal("item", r.fn())
      assert.are.same({ id = "7" }, caps)
    end)

    it("prefers literal segments, further left first", function ()
      local m = routes()
      assert.are.equal("latest", (m:match_route("GET", "/queue/latest")).fn())
      assert.are.equal("fixed-b", (m:match_route("GET", "/fixed/fixed")).fn())
    end)

    it("prefers an exact method over *", function ()
      local m = routes()
      assert.are.equal("get", (m:match_route("GET", "/any/1")).fn())
      assert.are.equal("any", (m:match_route("PUT", "/any/1")).fn())
    end)

    it("normalises slashes in registered and requested paths", function ()
      local r, caps = routes():match_route("POST", "/queue//9/")
      assert.are.equal("post", r.fn())
      assert.are.same({ id = "9" }, caps)
    end)

    it("lists the methods of a path served for others", function ()
      local r, allow = routes():match_route("DELETE", "/queue/7")
      assert.is_nil(r)
      assert.are.same({ "GET", "POST" }, allow)
      r, allow = routes():match_route("GET", "/nothing")
      assert.is_nil(r)
      assert.are.same({}, allow)
    end)

    it("refuses a placeholder that is not a whole segment", function ()
      local m, logs = manager({ ["/p/r.lua"] = [[
        plugin:route("GET", "/queue/x{id}", function () end)
      ]] })
      assert.are.equal(1, m:load_all())
      assert.is_not_nil(logged(logs, "a {name} placeholder is a whole segment"))
    end)
  end)
end)
