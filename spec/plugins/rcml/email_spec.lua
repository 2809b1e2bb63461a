-- plugins/rcml/email.lua
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

describe("plugins/rcml/email.lua", function ()
  local host, verb, sent, answer, notes

  local ctx = {
    notify = function (_, code, level, message)
      table.insert(notes, { code = code, level = level, message = message })
    end,
  }

  before_each(function ()
    sent, notes, answer = {}, {}, { { sid = "EM1", status = "queued" } }
    host = fake_host.new({
      plugins = { "rcml/email.lua" },
      globals = {
        email = {
          send = function (req)
            table.insert(sent, req)
            return table.unpack(answer)
          end,
        },
      },
    })
    verb = host.manager:verb("Email")
  end)

  it("sends the attributes and the text, and goes on", function ()
    local call = fake_call.new()
    local n = { name = "Email", text = "body", line = 1,
                attrs = { to = "a@x.org", from = "b@x.org", cc = "c@x.org",
                          subject = "Hi" } }
    assert.is_true(verb.fn(call, n, ctx))
    assert.are.equal("a@x.org", sent[1].to)
    assert.are.equal("b@x.org", sent[1].from)
    assert.are.equal("c@x.org", sent[1].cc)
    assert.are.equal("Hi", sent[1].subject)
    assert.are.equal("body", sent[1].body)
    assert.are.equal(call.sid, sent[1].call_sid)
  end)

  it("has Restcomm's default subject and requires to", function ()
    local spec = verb.spec
    assert.are.equal("Restcomm Email Service", spec.attrs.subject.default)
    assert.is_true(spec.attrs.to.required)
  end)

  it("reports a refusal as a Notification and goes on", function ()
    answer = { nil, "invalid", "To holds an invalid e-mail address." }
    local n = { name = "Email", text = "", line = 2, attrs = { to = "x" } }
    assert.is_true(verb.fn(fake_call.new(), n, ctx))
    assert.are.equal(12400, notes[1].code)
  end)
end)
