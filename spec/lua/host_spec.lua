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
end)
