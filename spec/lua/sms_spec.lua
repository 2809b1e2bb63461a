-- lua/switchboard/sms.lua
local sms = require "switchboard.sms"
local fake_host = require "helpers.fake_host"

describe("switchboard.sms", function ()
  local host, sent

  before_each(function ()
    sent = {}
    host = fake_host.new({
      plugins = { "rcml/sms.lua", "rcml/redirect.lua", "rcml/hangup.lua" },
      globals = {
        sms = {
          send = function (req)
            table.insert(sent, req)
            return { sid = "SMout", status = "sent" }
          end,
        },
      },
    })
  end)

  local msg = { sid = "SMin", account_sid = "AC1", from = "+15557777", to = "5000",
                body = "What time is it" }

  it("fetches the SMS application with Restcomm's SMS parameters", function ()
    host.documents["http://app/sms"] = "<Response/>"
    assert.are.equal("completed", sms.run(msg, { url = "http://app/sms" }, host))
    local req = host.requests[1]
    assert.are.equal("SMin", fake_host.param(req, "SmsSid"))
    assert.are.equal("AC1", fake_host.param(req, "AccountSid"))
    assert.are.equal("+15557777", fake_host.param(req, "From"))
    assert.are.equal("5000", fake_host.param(req, "To"))
    assert.are.equal("What time is it", fake_host.param(req, "Body"))
    assert.are.equal("received", fake_host.param(req, "SmsStatus"))
  end)

  it("answers with <Sms> to the sender, as a reply", function ()
    host.documents["http://app/sms"] = "<Response><Sms>Noon</Sms></Response>"
    sms.run(msg, { url = "http://app/sms" }, host)
    assert.are.equal(1, #sent)
    assert.are.equal("+15557777", sent[1].to)
    assert.are.equal("5000", sent[1].from)
    assert.are.equal("outbound-reply", sent[1].direction)
  end)

  it("follows <Redirect> and skips voice verbs with a warning", function ()
    host.documents["http://app/sms"] =
      "<Response><Hangup/><Redirect>two</Redirect></Response>"
    host.documents["http://app/two"] = "<Response><Sms>ok</Sms></Response>"
    sms.run(msg, { url = "http://app/sms" }, host)
    assert.are.equal(2, #host.requests)
    assert.are.equal(1, #sent)
    assert.are.same({ 12200 }, host:codes())
    assert.are.equal("AC1", host.notifications[1].account_sid)
    assert.is_nil(host.notifications[1].call_sid)
  end)
end)
