-- switchboard.host: the wiring of the C module "switchboard.core" to the
-- plugin manager and the interpreter. A fake core stands in for the C one.
local fake_call = require "helpers.fake_call"

local function fresh_host(core)
  package.loaded["switchboard.core"] = core
  package.loaded["switchboard.host"] = nil
  package.loaded["switchboard.plugins"] = nil
  return require "switchboard.host"
end

local function fake_core(files)
  local core = { logs = {}, notes = {}, fetched = {} }
  core.plugin_paths = { "/plugins" }
  core.scan = function (dir)
    local out = {}
    for path in pairs(files) do
      local rel = path:match("^" .. dir .. "/(.+)$")
      if rel then
        out[#out + 1] = rel
      end
    end
    table.sort(out)
    return out
  end
  core.readfile = function (path)
    return files[path] or nil, path .. ": missing"
  end
  core.log = function (level, msg)
    table.insert(core.logs, { level, msg })
  end
  core.notify = function (n)
    table.insert(core.notes, n)
  end
  core.sleep = function () return true end
  core.http_request = function (req)
    table.insert(core.fetched, req)
    return { status = 200, body = "<Response><Pause length='2'/></Response>",
      content_type = "text/xml", url = req.url }
  end
  core.rcml_parse = function (text)
    if text:find("<Pause") then
      return { name = "Response", attrs = {}, text = "", line = 1, children = {
        { name = "Pause", attrs = { length = "2" }, text = "", line = 1, children = {} },
        { name = "Nope", attrs = {}, text = "", line = 1, children = {} },
      } }
    end
    return nil, "syntax", "bad"
  end
  return core
end

describe("switchboard.host", function ()
  after_each(function ()
    package.loaded["switchboard.core"] = nil
    package.loaded["switchboard.host"] = nil
    package.loaded["switchboard.plugins"] = nil
  end)

  it("loads plugins from core.plugin_paths with core file access", function ()
    local core = fake_core({
      ["/plugins/rcml/pause.lua"] = io.open("plugins/rcml/pause.lua"):read("a"),
      ["/plugins/broken.lua"] = "plugin:verb(",
    })
    local host = fresh_host(core)
    host.init({})
    local failed, first = host.load_plugins()
    assert.are.equal(1, failed)
    assert.matches("plugin broken: syntax error", first)
    local plugins = require "switchboard.plugins"
    assert.is_not_nil(plugins.default:verb("Pause"))
  end)

  it("gives plugins sleep and http from the core", function ()
    local core = fake_core({
      ["/plugins/probe.lua"] = [[
        plugin:hook("probe", function () return sleep, http.request end)
      ]],
    })
    local host = fresh_host(core)
    host.init({})
    host.load_plugins()
    local plugins = require "switchboard.plugins"
    local s, r = plugins.default:fire("probe")
    assert.are.equal(core.sleep, s)
    assert.are.equal(core.http_request, r)
  end)

  it("runs RCML on the core's fetch and parser and reports notifications", function ()
    local core = fake_core({
      ["/plugins/rcml/pause.lua"] = io.open("plugins/rcml/pause.lua"):read("a"),
    })
    local host = fresh_host(core)
    host.init({})
    host.load_plugins()
    local call = fake_call.new()
    assert.are.equal("completed", host.run_rcml(call, { url = "http://a/b", method = "GET" }))
    assert.are.equal("GET", core.fetched[1].method)
    assert.are.same({ "pause", "hangup" }, call:action_names())
    assert.are.equal(1, #core.notes)
    assert.are.equal(12200, core.notes[1].code)
    assert.are.equal(call.sid, core.notes[1].call_sid)
    assert.are.equal(call.account_sid, core.notes[1].account_sid)
  end)

  it("reloads through the manager", function ()
    local files = { ["/plugins/a.lua"] = [[plugin:hook("v", function () return 1 end)]] }
    local host = fresh_host(fake_core(files))
    host.init({})
    host.load_plugins()
    files["/plugins/a.lua"] = [[plugin:hook("v", function () return 2 end)]]
    assert.is_true(host.reload("a"))
    assert.are.equal(2, require("switchboard.plugins").default:fire("v"))
    local ok, kind = host.reload("zzz")
    assert.is_nil(ok)
    assert.are.equal("not-found", kind)
  end)

  describe("serve_route", function ()
    local function served(src)
      local core = fake_core({ ["/plugins/r.lua"] = src })
      local host = fresh_host(core)
      host.init({})
      assert.are.equal(0, (host.load_plugins()))
      return host, core
    end
    local function req(method, path)
      return { method = method, path = path, query = {}, form = {}, headers = {},
        body = "", account_sid = "AC1", caller_sid = "AC1", format = "xml" }
    end

    it("sends a table as JSON and a string as text", function ()
      local host = served([[
        plugin:route("GET", "/t/{id}", function (r) return { id = r.params.id } end)
        plugin:route("GET", "/s", function () return "hello" end)
      ]])
      local status, body, ctype = host.serve_route(req("GET", "/t/5"))
      assert.are.same({ 200, '{"id":"5"}', "application/json" }, { status, body, ctype })
      status, body, ctype = host.serve_route(req("GET", "/s"))
      assert.are.same({ 200, "hello", "text/plain; charset=utf-8" }, { status, body, ctype })
    end)

    it("passes status, body and headers through", function ()
      local host = served([[
        plugin:route("POST", "/x", function ()
          return 202, "<ok/>", { ["content-type"] = "text/xml", ["X-A"] = "1" }
        end)
        plugin:route("DELETE", "/x", function () end)
      ]])
      local status, body, ctype, headers, is_error = host.serve_route(req("POST", "/x"))
      assert.are.same({ 202, "<ok/>", "text/xml" }, { status, body, ctype })
      assert.are.equal("1", headers["X-A"])
      assert.is_nil(is_error)
      assert.are.equal(204, (host.serve_route(req("DELETE", "/x"))))
    end)

    it("answers 404, and 405 with Allow", function ()
      local host = served([[plugin:route("GET", "/x", function () return "x" end)]])
      local status, _, _, _, is_error = host.serve_route(req("GET", "/y"))
      assert.are.same({ 404, true }, { status, is_error })
      local headers
      status, _, _, headers, is_error = host.serve_route(req("PUT", "/x"))
      assert.are.same({ 405, "GET", true }, { status, headers.Allow, is_error })
    end)

    it("contains a failing handler or a bad answer as a logged 500", function ()
      local host, core = served([[
        plugin:route("GET", "/boom", function () error("kaput") end)
        plugin:route("GET", "/bad", function () return 99, "x" end)
        plugin:route("GET", "/fn", function () return 200, function () end end)
      ]])
      for _, path in ipairs({ "/boom", "/bad", "/fn" }) do
        local status, body, _, _, is_error = host.serve_route(req("GET", path))
        assert.are.same({ 500, "The plugin failed", true }, { status, body, is_error })
      end
      local text = {}
      for _, l in ipairs(core.logs) do
        text[#text + 1] = l[2]
      end
      text = table.concat(text, "\n")
      assert.matches("plugin r: route GET /boom failed: .*kaput", text)
      assert.matches("route GET /bad failed: the status must be an integer", text)
      assert.matches("route GET /fn failed: the body must be a string or a table", text)
    end)
  end)
end)
