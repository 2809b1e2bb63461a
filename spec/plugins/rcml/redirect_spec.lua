-- plugins/rcml/redirect.lua
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

describe("plugins/rcml/redirect.lua", function ()
  local host, verb

  before_each(function ()
    host = fake_host.new({ plugins = { "rcml/redirect.lua" } })
    verb = host.manager:verb("Redirect")
  end)

  it("asks for the next document with POST by default", function ()
    local t = verb.fn(fake_call.new(), { text = "next.xml", attrs = { method = "POST" } })
    assert.are.same({ url = "next.xml", method = "POST" }, t)
  end)

  it("is invalid RCML without a URL", function ()
    local ok, reason, msg = verb.fn(fake_call.new(), { text = "", attrs = { method = "POST" } })
    assert.is_nil(ok)
    assert.are.equal("invalid-rcml", reason)
    assert.matches("needs a URL", msg)
  end)

  it("fetches the target with the method given, parameters included", function ()
    host.documents["http://a/app/one.xml"] =
      "<Response><Redirect method=\"get\">two.xml</Redirect></Response>"
    host.documents["http://a/app/two.xml"] = "<Response/>"
    local call = fake_call.new()
    assert.are.equal("completed", rcml.run(call, host, { url = "http://a/app/one.xml" }))
    local req = host.requests[2]
    assert.are.equal("http://a/app/two.xml", req.url)
    assert.are.equal("GET", req.method)
    assert.are.equal(call.sid, fake_host.param(req, "CallSid"))
  end)

  it("warns about an invalid method and uses POST", function ()
    host.documents["http://a/1"] = "<Response><Redirect method=\"PUT\">/2</Redirect></Response>"
    host.documents["http://a/2"] = "<Response/>"
    rcml.run(fake_call.new(), host, { url = "http://a/1" })
    assert.are.equal("POST", host.requests[2].method)
    assert.are.same({ 12200 }, host:codes())
  end)

  it("is bounded when it loops", function ()
    host.documents["http://a/loop"] = "<Response><Redirect>loop</Redirect></Response>"
    assert.are.equal("failed", rcml.run(fake_call.new(), host, { url = "http://a/loop" }))
    assert.are.equal(rcml.MAX_REDIRECTS + 1, #host.requests)
    assert.are.same({ 11215 }, host:codes())
  end)
end)
