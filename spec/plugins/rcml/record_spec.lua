-- plugins/rcml/record.lua
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

local URL = "http://a.test/app/x.xml"
local NEXT = "<Response><Pause length=\"7\"/></Response>"
local WAV = "http://10.0.0.1:8080/restcomm/2012-04-24/Accounts/AC1/Recordings/RE1.wav"

-- Runs <Response>body</Response> at URL on call (default: an answered
-- call on which nothing gets recorded, so that the next verb runs rather
-- than the action, the document itself by default).
local function run(body, call, extra_docs)
  local docs = { [URL] = "<Response>" .. body .. "</Response>" }
  for k, v in pairs(extra_docs or {}) do
    docs[k] = v
  end
  local host = fake_host.new({
    plugins = { "rcml/record.lua", "rcml/pause.lua", "rcml/hangup.lua" },
    documents = docs,
  })
  -- A verb that posts back to its document when it should not would loop
  -- for ever (prompts count as progress): fail instead.
  local fetch = host.fetch
  host.fetch = function (req)
    assert(#host.requests < 20, "more than 20 requests: a document loop")
    return fetch(req)
  end
  call = call or fake_call.new({ answered = true, script = { record = { {} } } })
  return rcml.run(call, host, { url = URL }), call, host
end

local function recording(script)
  return fake_call.new({ answered = true, script = { record = { script } } })
end

-- The spec given to call:record (the first one).
local function record_spec(call)
  for _, a in ipairs(call.actions) do
    if a[1] == "record" then
      return a[2]
    end
  end
end

local function names_without_prefetch(call)
  local out = {}
  for _, n in ipairs(call:action_names()) do
    if n ~= "prefetch" then
      out[#out + 1] = n
    end
  end
  return out
end

describe("plugins/rcml/record.lua", function ()
  it("records with Restcomm's defaults", function ()
    local _, call, host = run("<Record/>")
    assert.are.same({
      max_length = 3600, timeout = 5, finish_on_key = "1234567890*#", beep = true,
      trim = true, action = URL, method = "POST",
    }, record_spec(call))
    assert.are.same({}, host.notifications)
  end)

  it("requests the current document by POST with the recording's parameters", function ()
    local doc = 0
    local call = recording({ sid = "RE1", url = WAV, duration = 7.6, digits = "#" })
    local r, _, host = run("", call, { [URL] = function ()
      doc = doc + 1
      return { status = 200, body = doc == 1 and "<Response><Record/></Response>" or NEXT }
    end })
    assert.are.equal("completed", r)
    assert.are.same({ URL, URL }, host:urls())
    local req = host.requests[2]
    assert.are.equal("POST", req.method)
    assert.are.equal(WAV, fake_host.param(req, "RecordingUrl"))
    assert.are.equal(WAV, fake_host.param(req, "PublicRecordingUrl"))
    assert.are.equal("RE1", fake_host.param(req, "RecordingSid"))
    assert.are.equal("8", fake_host.param(req, "RecordingDuration"))
    assert.are.equal("#", fake_host.param(req, "Digits"))
    assert.are.equal(call.sid, fake_host.param(req, "CallSid"))
    assert.are.equal(7, call.actions[#call.actions - 1][2])    -- its Pause ran
  end)

  it("passes the action resolved, with its method, and runs its document", function ()
    local call = recording({ sid = "RE1", url = WAV, duration = 3, digits = "" })
    local r, _, host = run("<Record action=\"../done\" method=\"GET\"/><Pause/>", call,
      { ["http://a.test/done"] = NEXT })
    assert.are.equal("completed", r)
    local spec = record_spec(call)
    assert.are.equal("http://a.test/done", spec.action)
    assert.are.equal("GET", spec.method)
    local req = host.requests[2]
    assert.are.equal("http://a.test/done", req.url)
    assert.are.equal("GET", req.method)
    assert.are.equal("", fake_host.param(req, "Digits"))
    assert.are.same({ "record", "pause", "hangup" }, names_without_prefetch(call))
    assert.are.equal(7, call.actions[#call.actions - 1][2])
  end)

  for _, c in ipairs({ { 7.4, "7" }, { 0.5, "1" }, { 2, "2" }, { 59.99, "60" } }) do
    it(("rounds a duration of %g s to %s"):format(c[1], c[2]), function ()
      local call = recording({ sid = "RE1", url = WAV, duration = c[1], digits = "" })
      local _, _, host = run("<Record action=\"/n\"/>", call, { ["http://a.test/n"] = NEXT })
      assert.are.equal(c[2], fake_host.param(host.requests[2], "RecordingDuration"))
    end)
  end

  it("passes maxLength, timeout, playBeep and trim", function ()
    local _, call, host = run("<Record maxLength=\"30\" timeout=\"0\" playBeep=\"false\" "
      .. "trim=\"do-not-trim\"/>")
    local spec = record_spec(call)
    assert.are.equal(30, spec.max_length)
    assert.are.equal(0, spec.timeout)
    assert.is_false(spec.beep)
    assert.is_false(spec.trim)
    assert.are.same({}, host.notifications)
  end)

  for _, c in ipairs({ { "-1", "" }, { "", "" }, { "#", "#" }, { "*#0", "*#0" } }) do
    it(("passes finishOnKey=\"%s\" as \"%s\""):format(c[1], c[2]), function ()
      local _, call, host = run(("<Record finishOnKey=\"%s\"/>"):format(c[1]))
      assert.are.equal(c[2], record_spec(call).finish_on_key)
      assert.are.same({}, host.notifications)
    end)
  end

  -- Invalid values: their Notification code (warning) and the default.
  local invalid = {
    { "timeout=\"-1\"", 13611, "timeout", 5 },
    { "timeout=\"soon\"", 13611, "timeout", 5 },
    { "timeout=\"3601\"", 13611, "timeout", 5 },
    { "maxLength=\"0\"", 13612, "max_length", 3600 },
    { "maxLength=\"1.5\"", 13612, "max_length", 3600 },
    { "maxLength=\"86401\"", 13612, "max_length", 3600 },
    { "finishOnKey=\"abc\"", 13613, "finish_on_key", "1234567890*#" },
    { "finishOnKey=\"-2\"", 13613, "finish_on_key", "1234567890*#" },
    { "method=\"PUT\"", 13610, "method", "POST" },
    { "playBeep=\"maybe\"", 12200, "beep", true },
    { "trim=\"trim\"", 12200, "trim", true },
  }
  for _, c in ipairs(invalid) do
    it(("reports %s as %d and uses the default"):format(c[1], c[2]), function ()
      local r, call, host = run(("<Record %s/>"):format(c[1]))
      assert.are.equal("completed", r)
      assert.are.same({ c[2] }, host:codes())
      assert.are.equal("warning", host.notifications[1].level)
      assert.are.equal(c[4], record_spec(call)[c[3]])
    end)
  end

  it("warns that transcription is not offered (13614) and still records", function ()
    local call = recording({ sid = "RE1", url = WAV, duration = 3, digits = "1" })
    local _, _, host = run("<Record transcribe=\"true\" transcribeCallback=\"/t\" "
      .. "action=\"/n\"/>", call, { ["http://a.test/n"] = NEXT })
    assert.are.same({ 13614 }, host:codes())
    assert.are.equal("warning", host.notifications[1].level)
    assert.is_not_nil(record_spec(call))
    assert.are.equal("RE1", fake_host.param(host.requests[2], "RecordingSid"))
  end)

  it("says nothing about transcribe=\"false\"", function ()
    local _, call, host = run("<Record transcribe=\"false\"/>")
    assert.are.same({}, host.notifications)
    assert.is_not_nil(record_spec(call))
  end)

  it("runs the next verb and requests no action when nothing was recorded", function ()
    local call = recording({ duration = 0, digits = "" })
    local r, _, host = run("<Record action=\"/n\"/><Pause length=\"3\"/>", call,
      { ["http://a.test/n"] = NEXT })
    assert.are.equal("completed", r)
    assert.are.same({ URL }, host:urls())
    assert.are.same({ "record", "pause", "hangup" }, names_without_prefetch(call))
    assert.are.equal(3, call.actions[#call.actions - 1][2])
    assert.are.same({}, host.notifications)
  end)

  it("reports a failed recording (12400) and still requests the action", function ()
    local call = recording({ sid = "RE1", url = WAV, duration = 2.2, digits = "",
                             error = "disk full" })
    local r, _, host = run("<Record action=\"/n\"/><Pause length=\"3\"/>", call,
      { ["http://a.test/n"] = NEXT })
    assert.are.equal("completed", r)
    assert.are.same({ 12400 }, host:codes())
    assert.are.equal("error", host.notifications[1].level)
    assert.matches("disk full", host.notifications[1].message)
    assert.are.same({ URL, "http://a.test/n" }, host:urls())
    assert.are.equal("2", fake_host.param(host.requests[2], "RecordingDuration"))
  end)

  it("reports a recording that failed with nothing kept (12400); the next verb runs", function ()
    local call = recording({ duration = 0, digits = "", error = "folder not writable" })
    local r, _, host = run("<Record action=\"/n\"/><Pause length=\"3\"/>", call)
    assert.are.equal("completed", r)
    assert.are.same({ 12400 }, host:codes())
    assert.are.same({ URL }, host:urls())
    assert.are.same({ "record", "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("reports a recording that cannot start (12400) and runs the next verb", function ()
    local call = recording({ nil, "state", "cannot start: no media" })
    local r, _, host = run("<Record/><Pause length=\"3\"/>", call)
    assert.are.equal("completed", r)
    assert.are.same({ 12400 }, host:codes())
    assert.are.equal("error", host.notifications[1].level)
    assert.matches("cannot start: no media", host.notifications[1].message)
    assert.are.same({ "record", "pause", "hangup" }, names_without_prefetch(call))
  end)

  for _, reason in ipairs({ "hangup", "canceled" }) do
    it(("ends the document quietly on %s"):format(reason), function ()
      local call = recording(reason)
      local r, _, host = run("<Record action=\"/n\"/><Pause/>", call,
        { ["http://a.test/n"] = NEXT })
      assert.are.equal("hangup", r)
      assert.are.same({ "record" }, names_without_prefetch(call))
      assert.are.same({ URL }, host:urls())
      assert.are.same({}, host.notifications)
    end)
  end

  it("leaves answering to call:record (no separate answer)", function ()
    local call = fake_call.new({ script = { record = { {} }, pause = { function (c)
      assert.is_true(c.answered)
      return true
    end } } })
    local r = run("<Record/><Pause/>", call)
    assert.are.equal("completed", r)
    assert.are.same({ "record", "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("warns about nested elements and still records", function ()
    local _, call, host = run("<Record><Pause/></Record>")
    assert.are.same({ 12200 }, host:codes())
    assert.are.same({ "record", "hangup" }, names_without_prefetch(call))
  end)
end)
