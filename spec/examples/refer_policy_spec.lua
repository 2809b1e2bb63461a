-- examples/transfer-policy/plugins/refer_policy.lua
local fake_host = require "helpers.fake_host"
local fake_refer = require "helpers.fake_refer"

local PATH = "examples/transfer-policy/plugins/refer_policy.lua"

local function fire(ev, options)
  local host = fake_host.new({ options = { refer_policy = options } })
  assert(host.manager:load_file("refer_policy", PATH))
  return host.manager:fire("refer", ev)
end

describe("examples: refer_policy.lua", function ()
  it("lets an allowed target through to the next handler", function ()
    local ev = fake_refer.new({ target = "carol" })
    assert.is_nil(fire(ev, { allow = { "alice", "carol" } }))
    assert.are.same({}, ev:summary())
  end)

  it("refuses a target outside the allow-list with 403", function ()
    local ev = fake_refer.new({ target = "mallory" })
    assert.is_true(fire(ev, { allow = { "alice", "1%d%d%d" } }))
    assert.are.same({ "reject 403" }, ev:summary())
    assert.are.equal("Transfer target not allowed", ev.actions[1][3])
  end)

  it("matches patterns against the whole user", function ()
    local ev = fake_refer.new({ target = "1234" })
    assert.is_nil(fire(ev, { allow = { "1%d%d%d" } }))
    ev = fake_refer.new({ target = "12345" })
    assert.is_true(fire(ev, { allow = { "1%d%d%d" } }))
  end)

  it("allows every target with an empty list", function ()
    local ev = fake_refer.new({ target = "anyone" })
    assert.is_nil(fire(ev, {}))
  end)

  it("refuses outside business hours", function ()
    local ev = fake_refer.new({ target = "alice" })
    -- No day is open: always outside.
    assert.is_true(fire(ev, { days = {}, utc = true }))
    assert.are.same({ "reject 403" }, ev:summary())
    assert.are.equal("Transfers are not available now", ev.actions[1][3])
  end)

  it("lets transfers through inside business hours", function ()
    local ev = fake_refer.new({ target = "alice" })
    assert.is_nil(fire(ev, { days = { 0, 1, 2, 3, 4, 5, 6 }, hours = { from = 0, to = 24 } }))
  end)
end)
