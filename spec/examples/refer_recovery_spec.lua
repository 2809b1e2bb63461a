-- examples/transfer-recovery/plugins/refer_recovery.lua
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"
local fake_refer = require "helpers.fake_refer"

local PATH = "examples/transfer-recovery/plugins/refer_recovery.lua"

local function fire(ev, options)
  local host = fake_host.new({ options = options or { refer_recovery = { timeout = 5 } } })
  assert(host.manager:load_file("refer_recovery", PATH))
  return host.manager:fire("refer", ev), host
end

local function dial_outcome(result)
  return { dial = { result } }
end

describe("examples: refer_recovery.lua", function ()
  it("dials the target itself and, on answer, notifies 200 and drops the transferor",
    function ()
      local tee = fake_call.new({ answered = true,
        script = dial_outcome({ status = "answered", sid = "CAcarol" }) })
      local ev = fake_refer.new({ transferee_call = tee, target = "carol" })
      assert.is_true(fire(ev))
      assert.are.same({ "accept", "notify 200" }, ev:summary())
      assert.are.same({ "unbridge", "dial" }, tee:action_names())
      local spec = tee.actions[2][2]
      assert.are.equal("answer", spec.wait)
      assert.are.equal(5, spec.timeout)
      assert.are.same({ { kind = "client", dest = "carol" } }, spec.targets)
      assert.are.same({ "hangup" }, ev.transferor_call:action_names())
    end)

  it("on a busy target notifies 486 and bridges back to the transferor", function ()
    local tee = fake_call.new({ answered = true, script = dial_outcome({ status = "busy" }) })
    local ev = fake_refer.new({ transferee_call = tee })
    fire(ev)
    assert.are.same({ "accept", "notify 486" }, ev:summary())
    assert.are.same({ "unbridge", "dial", "bridge" }, tee:action_names())
    assert.are.equal(ev.transferor_call, tee.actions[3][2])
    assert.are.same({}, ev.transferor_call:action_names())
  end)

  it("on no answer notifies 480, on failure 503", function ()
    for status, code in pairs({ ["no-answer"] = 480, failed = 503 }) do
      local tee = fake_call.new({ answered = true, script = dial_outcome({ status = status }) })
      local ev = fake_refer.new({ transferee_call = tee })
      fire(ev)
      assert.are.same({ "accept", "notify " .. code }, ev:summary())
      assert.are.same({ "unbridge", "dial", "bridge" }, tee:action_names())
    end
  end)

  it("hangs up the transferor when the transferee left during the attempt", function ()
    local tee = fake_call.new({ answered = true, script = { dial = { "hangup" } } })
    local ev = fake_refer.new({ transferee_call = tee })
    fire(ev)
    assert.are.same({ "accept", "notify 487" }, ev:summary())
    assert.are.same({ "hangup" }, ev.transferor_call:action_names())
  end)

  it("dials the Refer-To URI itself with kind = \"sip\"", function ()
    local tee = fake_call.new({ answered = true,
      script = dial_outcome({ status = "answered" }) })
    local ev = fake_refer.new({ transferee_call = tee, target = "carol" })
    fire(ev, { refer_recovery = { kind = "sip" } })
    local spec = tee.actions[2][2]
    assert.are.same({ { kind = "sip", dest = "sip:carol@127.0.0.1" } }, spec.targets)
    assert.are.equal(20, spec.timeout)
  end)

  it("leaves REFERs it cannot handle to the next handler", function ()
    local ev = fake_refer.new({ transferee_call = false })
    assert.is_nil((fire(ev)))
    assert.are.same({}, ev:summary())
    ev = fake_refer.new({ refer_to_sip = false })
    assert.is_nil((fire(ev)))
  end)
end)
