-- plugins/rcml/sms.lua
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

describe("plugins/rcml/sms.lua", function ()
  local host, verb, sent, answer

  local function ctx()
    return {
      url = "http://a/app/doc.xml",
      resolve = function (_, ref) return "http://a/app/" .. ref end,
      notify = function (_, code, level, message)
        table.insert(host.notifications, { code = code, level = level, message = message })
      end,
    }
  end

  before_each(function ()
    sent, answer = {}, { { sid = "SM1", status = "sent" } }
    host = fake_host.new({
      plugins = { "rcml/sms.lua" },
      globals = {
        sms = {
          send = function (req)
            table.insert(sent, req)
            return table.unpack(answer)
          end,
        },
      },
    })
    verb = host.manager:verb("Sms")
  end)

  local function node(text, attrs)
    attrs = attrs or {}
    attrs.method = attrs.method or "POST"
    return { name = "Sms", text = text, attrs = attrs, line = 3 }
  end

  it("sends to the caller from the number called by default, without waiting", function ()
    local call = fake_call.new({ from = "bob", to = "+15550100" })
    assert.is_true(verb.fn(call, node("hi"), ctx()))
    assert.are.equal(1, #sent)
    assert.are.equal("bob", sent[1].to)
    assert.are.equal("+15550100", sent[1].from)
    assert.are.equal("hi", sent[1].body)
    assert.are.equal("outbound-call", sent[1].direction)
    assert.are.equal(call.sid, sent[1].call_sid)
    assert.is_false(sent[1].wait)
  end)

  it("waits with an action and gives it SmsSid and SmsStatus", function ()
    local t = verb.fn(fake_call.new(), node("hi", { to = "alice", action = "done" }), ctx())
    assert.is_true(sent[1].wait)
    assert.are.equal("alice", sent[1].to)
    assert.are.same({ url = "done", method = "POST",
                      params = { { "SmsSid", "SM1" }, { "SmsStatus", "sent" } } }, t)
  end)

  it("resolves statusCallback against the document", function ()
    verb.fn(fake_call.new(), node("hi", { statusCallback = "cb" }), ctx())
    assert.are.equal("http://a/app/cb", sent[1].status_callback)
  end)

  it("replies as outbound-reply in an SMS session", function ()
    local msg = { kind = "sms", sid = "SMin", account_sid = "AC1", from = "+1555", to = "5000" }
    verb.fn(msg, node("pong"), ctx())
    assert.are.equal("outbound-reply", sent[1].direction)
    assert.is_nil(sent[1].call_sid)
    assert.are.equal("+1555", sent[1].to)
    assert.are.equal("5000", sent[1].from)
  end)

  it("reports a refused From as 14102 and goes to the action with failed", function ()
    answer = { nil, "forbidden", "From 9 is not a number or client of this account." }
    local t = verb.fn(fake_call.new(), node("hi", { action = "done" }), ctx())
    assert.are.same({ { "SmsStatus", "failed" } }, t.params)
    assert.are.equal(14102, host.notifications[1].code)
  end)

  it("reports an empty body as 14103 and sends nothing", function ()
    assert.is_true(verb.fn(fake_call.new(), node(""), ctx()))
    assert.are.equal(0, #sent)
    assert.are.equal(14103, host.notifications[1].code)
  end)

  it("ends quietly when the call hangs up while it waits", function ()
    answer = { nil, "hangup" }
    local ok, reason = verb.fn(fake_call.new(), node("hi", { action = "x" }), ctx())
    assert.is_nil(ok)
    assert.are.equal("hangup", reason)
  end)
end)
