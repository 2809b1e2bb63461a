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
    assert.are.equal(require "switchboard.uri", env.require("switchboard.uri"))
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
end)
