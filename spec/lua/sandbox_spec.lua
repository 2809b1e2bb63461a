-- switchboard.sandbox: what a plugin's environment holds and lacks.
local sandbox = require "switchboard.sandbox"

describe("switchboard.sandbox", function ()
  local env

  before_each(function ()
    env = sandbox.new_env({ plugin = "the plugin object" })
  end)

  it("has none of the dangerous globals", function ()
    for _, name in ipairs({
      "io", "dofile", "loadfile", "package", "debug", "collectgarbage",
      "module", "loadstring",
    }) do
      assert.is_nil(env[name], name)
    end
  end)

  it("keeps only harmless os functions", function ()
    for _, name in ipairs({ "execute", "exit", "remove", "rename", "tmpname",
      "getenv", "setlocale" }) do
      assert.is_nil(env.os[name], "os." .. name)
    end
    assert.is_function(env.os.time)
    assert.is_function(env.os.clock)
    assert.is_function(env.os.date)
  end)

  it("has the safe base functions and libraries", function ()
    for _, name in ipairs({ "pairs", "ipairs", "pcall", "xpcall", "error",
      "tostring", "tonumber", "type", "select", "setmetatable" }) do
      assert.is_function(env[name], name)
    end
    assert.is_function(env.string.format)
    assert.is_function(env.table.concat)
    assert.is_function(env.math.floor)
    assert.is_function(env.utf8.char)
    assert.is_function(env.coroutine.wrap)
  end)

  it("copies library tables per environment", function ()
    local other = sandbox.new_env()
    env.string.format = nil
    assert.is_function(other.string.format)
    assert.is_function(string.format)
  end)

  it("adds the extra globals and points _G at itself", function ()
    assert.are.equal("the plugin object", env.plugin)
    assert.are.equal(env, env._G)
  end)

  it("loads text only, in the plugin's environment by default", function ()
    local f = assert(env.load("x = 42; return plugin"))
    assert.are.equal("the plugin object", f())
    assert.are.equal(42, env.x)
    assert.is_nil(rawget(_G, "x"))
    local bin = string.dump(function () return 1 end)
    local g, err = env.load(bin)
    assert.is_nil(g)
    assert.matches("binary", err)
  end)

  it("only requires allow-listed modules", function ()
    local uri = env.require("switchboard.uri")
    assert.are.equal(require("switchboard.uri").resolve, uri.resolve)
    assert.has_error(function () env.require("io") end,
      "module 'io' is not available to plugins")
    assert.has_error(function () env.require("switchboard.plugins") end)
  end)

  it("gives a chunk loaded in it no way to reach io", function ()
    local f = assert(load([[
      return io, package, dofile, loadfile, os.execute, require
    ]], "=t", "t", env))
    local a, b, c, d, e = f()
    assert.is_nil(a)
    assert.is_nil(b)
    assert.is_nil(c)
    assert.is_nil(d)
    assert.is_nil(e)
  end)

  -- Issue 23: shared modules were writable, so one plugin could replace
  -- uri.resolve under the RCML interpreter of every account.
  it("gives a read-only view of a shared module", function ()
    local real = require "switchboard.uri"
    local uri = env.require("switchboard.uri")
    assert.has_error(function () uri.resolve = function () end end,
      "read-only table (setting 'resolve')")
    assert.has_error(function () env.rawset(uri, "resolve", print) end)
    assert.has_error(function () env.setmetatable(uri, {}) end)
    assert.are.equal("read-only", env.getmetatable(uri))
    local names = {}
    for k in pairs(uri) do
      names[#names + 1] = k
    end
    assert.is_true(#names > 3)
    assert.are.equal(real.resolve, uri.resolve)
    assert.are.equal("http://a/c", uri.resolve("http://a/b", "c"))
    assert.are.equal(uri, env.require("switchboard.uri"))
  end)

  it("keeps rawset away from protected tables, not from the plugin's own", function ()
    local obj = sandbox.protect(setmetatable({}, { __newindex = function () error("ro") end }))
    assert.has_error(function () env.rawset(obj, "verb", print) end,
      "read-only table (rawset of 'verb')")
    assert.is_nil(rawget(obj, "verb"))
    local mine = {}
    assert.are.equal(mine, env.rawset(mine, "k", 1))
    assert.are.equal(1, mine.k)
  end)

  -- Issue 23: a finalizer runs whenever the collector does, also outside
  -- the limits of any resume: one that never returned hung the server.
  it("refuses __gc finalizers", function ()
    assert.has_error(function ()
      env.setmetatable({}, { __gc = function () while true do end end })
    end, "__gc finalizers are not available to plugins")
    local f = assert(env.load("return setmetatable({}, { __gc = function () end })"))
    assert.has_error(f)
    local t = env.setmetatable({}, { __index = { a = 1 } })
    assert.are.equal(1, t.a)
  end)
end)
