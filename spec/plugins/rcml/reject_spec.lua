-- plugins/rcml/reject.lua
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

local URL = "http://a/x"

local function run(body, call)
  local host = fake_host.new({
    plugins = { "rcml/reject.lua", "rcml/pause.lua" },
    documents = { [URL] = "<Response>" .. body .. "</Response>" },
  })
  call = call or fake_call.new()
  local r = rcml.run(call, host, { url = URL })
  return r, call, host
end

describe("plugins/rcml/reject.lua", function ()
  it("rejects with 603 Decline by default", function ()
    local r, call = run("<Reject/><Pause/>")
    assert.are.equal("completed", r)
    assert.are.same({ "reject" }, call:action_names())
    assert.are.equal(603, call.actions[1][2])
  end)

  it("rejects with 603 for reason=\"rejected\"", function ()
    local _, call = run("<Reject reason=\"rejected\"/>")
    assert.are.equal(603, call.actions[1][2])
  end)

  it("rejects with 486 Busy Here for reason=\"busy\" (any case)", function ()
    local _, call = run("<Reject reason=\"Busy\"/>")
    assert.are.equal(486, call.actions[1][2])
  end)

  it("warns about an unknown reason and uses 603", function ()
    local _, call, host = run("<Reject reason=\"later\"/>")
    assert.are.equal(603, call.actions[1][2])
    assert.are.same({ 12200 }, host:codes())
    assert.are.equal("warning", host.notifications[1].level)
  end)

  it("hangs up instead on an answered call", function ()
    local _, call, host = run("<Reject reason=\"busy\"/>", fake_call.new({ answered = true }))
    assert.are.same({ "hangup" }, call:action_names())
    local warned = false
    for _, l in ipairs(host.logs) do
      if l[1] == "warn" and l[2]:find("[rcml.reject]", 1, true) then
        warned = true
      end
    end
    assert.is_true(warned)
  end)

  it("ends quietly when the call is already gone", function ()
    local host = fake_host.new({ plugins = { "rcml/reject.lua" } })
    local call = fake_call.new()
    call:remote_hangup()
    local r = host.manager:verb("Reject").fn(call, { attrs = { reason = "rejected" } })
    assert.is_false(r)
  end)
end)
