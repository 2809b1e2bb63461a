-- plugins/refer.lua
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"
local fake_refer = require "helpers.fake_refer"

local function fire(ev, options)
  local host = fake_host.new({ plugins = { "refer.lua" }, options = options })
  local r = host.manager:fire("refer", ev)
  return r, host
end

describe("plugins/refer.lua", function ()
  it("accepts, runs the Refer URL on the transferee, then NOTIFY 200 and BYE", function ()
    local ev = fake_refer.new()
    local r = fire(ev)
    assert.is_true(r)
    assert.are.same({ "accept", "notify 200" }, ev:summary())
    local tee, tor = ev.transferee_call, ev.transferor_call
    assert.are.same({ "redirect" }, tee:action_names())
    local app = tee.actions[1][2]
    assert.are.equal("http://app/2222", app.url)
    assert.are.equal("GET", app.method)
    assert.are.same({
      { "ReferTarget", "alice" }, { "Transferor", "+131313" }, { "Transferee", "bob" },
    }, app.params)
    assert.are.same({ "hangup" }, tor:action_names())
  end)

  it("does not hang up a transferor that already left", function ()
    local ev = fake_refer.new()
    ev.transferor_call:remote_hangup()
    ev.transferor_call.status = "in-progress"   -- as seen when the REFER came
    ev.transferor_call.alive = true
    local tee = ev.transferee_call
    tee.script.redirect = { function (call)
      ev.transferor_call:remote_hangup()
      return true
    end }
    fire(ev)
    assert.are.same({ "remote_hangup", "remote_hangup" }, ev.transferor_call:action_names())
  end)

  it("refuses a Refer-To that is not a SIP URI with 400", function ()
    local ev = fake_refer.new({ refer_to_sip = false })
    fire(ev)
    assert.are.same({ "reject 400" }, ev:summary())
    assert.are.same({}, ev.transferee_call:action_names())
  end)

  it("refuses a transferor not in progress with 403 (the call goes on)", function ()
    local tor = fake_call.new({ status = "ringing" })
    local ev = fake_refer.new({ transferor_call = tor })
    fire(ev)
    assert.are.same({ "reject 403" }, ev:summary())
    assert.matches("pre%-conditions failed", ev.actions[1][3])
    assert.are.same({}, tor:action_names())
  end)

  it("refuses a number without Refer URL with 403 and Restcomm's reason", function ()
    local ev = fake_refer.new({ number = false })
    fire(ev)
    assert.are.same({ "reject 403" }, ev:summary())
    assert.matches("Set Refer URL or Refer application", ev.actions[1][3])
    assert.are.same({}, ev.transferor_call:action_names())
  end)

  it("can refuse with 404 as Restcomm does (option refuse_status)", function ()
    local ev = fake_refer.new({ number = { sid = "PN1" } })
    fire(ev, { refer = { refuse_status = 404 } })
    assert.are.same({ "reject 404" }, ev:summary())
  end)

  it("refuses 404 and hangs up the transferor when there is no transferee", function ()
    local ev = fake_refer.new({ transferee_call = false })
    fire(ev)
    assert.are.same({ "reject 404" }, ev:summary())
    assert.matches("probably this is a conference", ev.actions[1][3])
    assert.are.same({ "hangup" }, ev.transferor_call:action_names())
  end)

  it("reports a failed redirect to the transferor and hangs it up", function ()
    local tee = fake_call.new({ answered = true, script = { redirect = { "network" } } })
    local ev = fake_refer.new({ transferee_call = tee })
    fire(ev)
    assert.are.same({ "accept", "notify 503" }, ev:summary())
    assert.are.same({ "hangup" }, ev.transferor_call:action_names())
  end)

  it("runs after handlers of other plugins, which can take the REFER", function ()
    local host = fake_host.new({ plugins = { "refer.lua" } })
    host:add_plugin("mine", [[
      plugin:hook("refer", function (ev) return ev:reject(488, "mine") end)
    ]])
    local ev = fake_refer.new()
    host.manager:fire("refer", ev)
    assert.are.same({ "reject 488" }, ev:summary())
  end)
end)
