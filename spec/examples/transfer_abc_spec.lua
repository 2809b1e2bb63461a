-- examples/transfer-abc: number B's Refer application (app.py's /b and
-- /b-done documents) run by the shipped Dial and Visual Designer plugins.
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

-- The documents app.py serves (kept in step with it by this spec's
-- reading of the file).
local function app_docs()
  local f = assert(io.open("examples/transfer-abc/app.py"))
  local src = f:read("a")
  f:close()
  local b1, b2 = src:match('"/b": %(\'(.-)\'%s*\n%s*\'(.-)\'%)')
  local fb1, fb2 = src:match('FALLBACK = %(\'(.-)\'%s*\n%s*\'(.-)\'%)')
  assert(b1 and fb1, "app.py documents not found")
  return b1 .. b2, fb1 .. fb2
end

local function run(dial_result)
  local b, fallback = app_docs()
  local host = fake_host.new({
    plugins = { "rcml/dial.lua", "rcml/hangup.lua", "visual_designer.lua" },
    documents = {
      ["http://app/b"] = b,
      ["http://app/b-done"] = function (req)
        local st = fake_host.param(req, "DialCallStatus")
        local failed = st == "busy" or st == "no-answer" or st == "failed"
        return { status = 200, body = failed and fallback or "<Response><Hangup/></Response>" }
      end,
    },
  })
  local call = fake_call.new({
    answered = true,
    refer = { target = "carol", transferor = "bob", transferee = "1000" },
    script = { dial = { dial_result, true } },
  })
  rcml.run(call, host, { url = "http://app/b" })
  return call, host
end

describe("examples: transfer-abc Refer application", function ()
  it("dials the transfer target from $core_ReferTarget", function ()
    local call = run({ status = "completed", sid = "CA1", duration = 5 })
    local spec = call.actions[1][2]
    assert.are.same({ "client", "carol" }, { spec.targets[1].kind, spec.targets[1].dest })
    assert.are.equal(20, spec.timeout)
    assert.are.same({ "dial", "hangup" }, call:action_names())
  end)

  it("dials the transferor back when the target is busy", function ()
    local call, host = run({ status = "busy", sid = "CA1", duration = 0 })
    assert.are.same({ "dial", "dial", "hangup" }, call:action_names())
    assert.are.equal("bob", call.actions[2][2].targets[1].dest)
    assert.are.equal("carol", fake_host.param(host.requests[2], "ReferTarget"))
  end)
end)
