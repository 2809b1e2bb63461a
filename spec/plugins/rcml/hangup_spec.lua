-- plugins/rcml/hangup.lua
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

describe("plugins/rcml/hangup.lua", function ()
  local host

  before_each(function ()
    host = fake_host.new({ plugins = { "rcml/hangup.lua" } })
  end)

  it("registers the Hangup verb", function ()
    local v = host.manager:verb("Hangup")
    assert.is_not_nil(v)
    assert.are.equal("rcml.hangup", v.plugin)
    assert.is_false(v.spec.nests)
  end)

  it("hangs the call up and ends the application", function ()
    local call = fake_call.new({ answered = true })
    local r = host.manager:verb("Hangup").fn(call, { attrs = {}, children = {} })
    assert.is_false(r)
    assert.are.same({ "hangup" }, call:action_names())
    assert.is_false(call.alive)
  end)

  it("is harmless on a call that is already gone", function ()
    local call = fake_call.new()
    call:remote_hangup()
    assert.is_false(host.manager:verb("Hangup").fn(call, { attrs = {} }))
    assert.are.same({ "remote_hangup" }, call:action_names())
  end)

  it("stops the document: nothing after it runs", function ()
    host.documents["http://a/x"] =
      "<Response><Hangup/><Unknown/><Hangup/></Response>"
    local call = fake_call.new()
    assert.are.equal("completed", rcml.run(call, host, { url = "http://a/x" }))
    assert.are.same({ "hangup" }, call:action_names())
    assert.are.same({}, host.notifications)
  end)
end)
