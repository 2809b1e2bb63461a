-- plugins/rcml/gather.lua
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

local URL = "http://a.test/app/x.xml"
local NEXT = "<Response><Pause length=\"7\"/></Response>"

-- Runs <Response>body</Response> at URL on call (default: an answered
-- call, script gather_script). extra_docs are served too.
local function run(body, call, extra_docs)
  local docs = { [URL] = "<Response>" .. body .. "</Response>" }
  for k, v in pairs(extra_docs or {}) do
    docs[k] = v
  end
  local host = fake_host.new({
    plugins = { "rcml/gather.lua", "rcml/say.lua", "rcml/play.lua",
                "rcml/pause.lua", "rcml/hangup.lua" },
    documents = docs,
  })
  -- A verb that posts back to its document when it should not would loop
  -- for ever (prompts count as progress): fail instead.
  local fetch = host.fetch
  host.fetch = function (req)
    assert(#host.requests < 20, "more than 20 requests: a document loop")
    return fetch(req)
  end
  call = call or fake_call.new({ answered = true })
  return rcml.run(call, host, { url = URL }), call, host
end

local function answered_call(script)
  return fake_call.new({ answered = true, script = script })
end

-- The spec given to call:gather (the first one).
local function gather_spec(call)
  for _, a in ipairs(call.actions) do
    if a[1] == "gather" then
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

describe("plugins/rcml/gather.lua", function ()
  it("gathers with Restcomm's defaults", function ()
    local r, call, host = run("<Gather/>")
    assert.are.equal("completed", r)
    local spec = gather_spec(call)
    assert.are.equal("dtmf", spec.input)
    assert.are.equal(5, spec.timeout)
    assert.are.equal("#", spec.finish_on_key)
    assert.is_nil(spec.num_digits)
    assert.are.equal(1, spec.speech_timeout)
    assert.is_nil(spec.partial_url)
    assert.are.same({}, host.notifications)
  end)

  it("requests the current document by POST with Digits by default", function ()
    local doc = 0
    local call = answered_call({ gather = { { digits = "1234", key = "#" } } })
    local _, _, host = run("<Gather/>", call, { [URL] = function ()
      doc = doc + 1
      return { status = 200, body = doc == 1 and "<Response><Gather/></Response>" or NEXT }
    end })
    assert.are.same({ URL, URL }, host:urls())
    local req = host.requests[2]
    assert.are.equal("POST", req.method)
    assert.are.equal("1234", fake_host.param(req, "Digits"))
    assert.are.equal(call.sid, fake_host.param(req, "CallSid"))
    assert.is_nil(fake_host.param(req, "SpeechResult"))
    assert.are.equal(7, call.actions[#call.actions - 1][2])    -- its Pause ran
  end)

  it("requests the action (resolved, with its method) and runs its document", function ()
    local call = answered_call({ gather = { { digits = "42", how = "num-digits" } } })
    local r, _, host = run("<Gather action=\"../next\" method=\"GET\" numDigits=\"2\"/>"
      .. "<Pause length=\"3\"/>", call, { ["http://a.test/next"] = NEXT })
    assert.are.equal("completed", r)
    assert.are.equal(2, gather_spec(call).num_digits)
    local req = host.requests[2]
    assert.are.equal("http://a.test/next", req.url)
    assert.are.equal("GET", req.method)
    assert.are.equal("42", fake_host.param(req, "Digits"))
    -- The next document's Pause ran, not the first document's.
    assert.are.same({ "gather", "gather_wait", "pause", "hangup" },
      names_without_prefetch(call))
    assert.are.equal(7, call.actions[#call.actions - 1][2])
  end)

  it("sends the digits without the finishing key", function ()
    local call = answered_call({ gather = { { digits = "7", key = "*" } } })
    local _, _, host = run("<Gather action=\"/n\" finishOnKey=\"*#\"/>", call,
      { ["http://a.test/n"] = NEXT })
    assert.are.equal("*#", gather_spec(call).finish_on_key)
    assert.are.equal("7", fake_host.param(host.requests[2], "Digits"))
  end)

  it("sends SpeechResult and Confidence for speech", function ()
    local call = answered_call({ gather = { {
      digits = "", how = "speech", speech = "sales", confidence = 0.8734,
    } } })
    local _, _, host = run("<Gather input=\"speech\" hints=\"sales, support\" "
      .. "language=\"en-US\" speechTimeout=\"2\" action=\"/n\"/>", call,
      { ["http://a.test/n"] = NEXT })
    local spec = gather_spec(call)
    assert.are.equal("speech", spec.input)
    assert.are.equal("sales, support", spec.hints)
    assert.are.equal("en-US", spec.language)
    assert.are.equal(2, spec.speech_timeout)
    local req = host.requests[2]
    assert.are.equal("sales", fake_host.param(req, "SpeechResult"))
    assert.are.equal("0.87", fake_host.param(req, "Confidence"))
    assert.is_nil(fake_host.param(req, "Digits"))
    assert.are.same({}, host.notifications)
  end)

  it("accepts input=\"dtmf speech\" in any case and spacing", function ()
    local _, call, host = run("<Gather input=\" Speech   DTMF \" hints=\"yes, no\"/>")
    assert.are.equal("speech dtmf", gather_spec(call).input)
    assert.are.same({}, host.notifications)
  end)

  it("warns (12200) about a recognizer error and still sends the digits", function ()
    local call = answered_call({ gather = { {
      digits = "5", speech_error = "speech recognition is not available on this server",
    } } })
    local _, _, host = run("<Gather input=\"dtmf speech\" hints=\"yes\" action=\"/n\"/>",
      call, { ["http://a.test/n"] = NEXT })
    assert.are.same({ 12200 }, host:codes())
    assert.are.equal("warning", host.notifications[1].level)
    assert.matches("not available", host.notifications[1].message)
    assert.are.equal("5", fake_host.param(host.requests[2], "Digits"))
  end)

  it("passes the partial result callback, resolved", function ()
    local _, call, host = run("<Gather input=\"speech\" hints=\"a\" "
      .. "partialResultCallback=\"/partial\" partialResultCallbackMethod=\"GET\"/>")
    local spec = gather_spec(call)
    assert.are.equal("http://a.test/partial", spec.partial_url)
    assert.are.equal("GET", spec.partial_method)
    assert.are.same({}, host.notifications)
  end)

  -- Restcomm's rule: no input, no action; the next verb runs.
  local no_input = {
    { "the timeout", true },
    { "only the finishing key", { digits = "", key = "#" } },
  }
  for _, c in ipairs(no_input) do
    it(("requests no action on %s and runs the next verb"):format(c[1]), function ()
      local call = answered_call({ gather = { c[2] } })
      local r, _, host = run("<Gather action=\"/n\"/><Pause length=\"3\"/>", call,
        { ["http://a.test/n"] = NEXT })
      assert.are.equal("completed", r)
      assert.are.same({ URL }, host:urls())
      assert.are.same({ "gather", "gather_wait", "pause", "hangup" },
        names_without_prefetch(call))
      assert.are.equal(3, call.actions[#call.actions - 1][2])
      assert.are.same({}, host.notifications)
    end)
  end

  it("runs the nested prompts between the start and the wait", function ()
    local r, call, host = run("<Gather><Say>Press one</Say><Pause length=\"2\"/>"
      .. "<Play>menu.wav</Play></Gather>")
    assert.are.equal("completed", r)
    assert.are.same({ "gather", "play", "pause", "play", "gather_wait", "hangup" },
      names_without_prefetch(call))
    local prompts = {}
    for _, a in ipairs(call.actions) do
      if a[1] == "play" then
        prompts[#prompts + 1] = a[2].text or a[2].url
      end
    end
    assert.are.same({ "Press one", "http://a.test/app/menu.wav" }, prompts)
    assert.are.same({}, host.notifications)
  end)

  it("prefetches the nested prompts with the document", function ()
    local _, call = run("<Gather><Say>Hi</Say><Play>menu.wav</Play></Gather>")
    assert.are.equal("prefetch", call.actions[1][1])
    assert.are.same({ { text = "Hi", voice = "man", language = "en" },
                      { url = "http://a.test/app/menu.wav" } }, call.actions[1][2])
  end)

  it("goes through the prompts an input interrupted and still waits", function ()
    -- A key during the Say: it and every later prompt return "interrupted".
    local call = answered_call({
      play = { "interrupted", "interrupted" },
      pause = { "interrupted" },
      gather = { { digits = "3", key = "#" } },
    })
    local r, _, host = run("<Gather action=\"/n\"><Say>Press one</Say>"
      .. "<Pause length=\"2\"/><Play>menu.wav</Play></Gather><Pause length=\"9\"/>",
      call, { ["http://a.test/n"] = NEXT })
    assert.are.equal("completed", r)
    assert.are.same({ "gather", "play", "pause", "play", "gather_wait", "pause", "hangup" },
      names_without_prefetch(call))
    assert.are.same({}, host.notifications)
    assert.are.equal("3", fake_host.param(host.requests[2], "Digits"))
    assert.are.equal(7, call.actions[#call.actions - 1][2])   -- the action's Pause
  end)

  -- Invalid attributes: their Notification code (warning) and the default.
  local invalid = {
    { "finishOnKey=\"x\"", 13310, "finish_on_key", "#" },
    { "finishOnKey=\"12345678901234567\"", 13310, "finish_on_key", "#" },
    { "finishOnKey=\"A\"", 13310, "finish_on_key", "#" },
    { "timeout=\"0\"", 13313, "timeout", 5 },
    { "timeout=\"soon\"", 13313, "timeout", 5 },
    { "timeout=\"86401\"", 13313, "timeout", 5 },
    { "numDigits=\"0\"", 13314, "num_digits", nil },
    { "numDigits=\"129\"", 13314, "num_digits", nil },
    { "numDigits=\"two\"", 13314, "num_digits", nil },
    { "input=\"video\"", 12200, "input", "dtmf" },
    { "input=\"speech\"", 12200, "input", "dtmf" },
    { "input=\"dtmf speech\" hints=\" , \"", 12200, "input", "dtmf" },
    { "speechTimeout=\"forever\"", 12200, "speech_timeout", 1 },
    { "partialResultCallback=\"ftp://x/p\"", 11100, "partial_url", nil },
  }
  for _, c in ipairs(invalid) do
    it(("reports %s as %d and uses the default"):format(c[1], c[2]), function ()
      local r, call, host = run(("<Gather %s/><Pause/>"):format(c[1]))
      assert.are.equal("completed", r)
      assert.are.same({ c[2] }, host:codes())
      assert.are.equal("warning", host.notifications[1].level)
      assert.are.equal(c[4], gather_spec(call)[c[3]])
      assert.are.same({ "gather", "gather_wait", "pause", "hangup" },
        names_without_prefetch(call))
    end)
  end

  it("explains that speech needs hints (12200) and gathers digits only", function ()
    local _, call, host = run("<Gather input=\"speech\"/>")
    assert.are.same({ 12200 }, host:codes())
    assert.matches("hints", host.notifications[1].message)
    assert.are.equal("dtmf", gather_spec(call).input)
  end)

  it("reports an invalid method as 13312 and requests the action by POST", function ()
    local call = answered_call({ gather = { { digits = "1" } } })
    local _, _, host = run("<Gather method=\"PUT\" action=\"/n\"/>", call,
      { ["http://a.test/n"] = NEXT })
    assert.are.same({ 13312 }, host:codes())
    assert.are.equal("warning", host.notifications[1].level)
    assert.are.equal("POST", host.requests[2].method)
  end)

  it("accepts finishOnKey=\"\" (no finishing key) without a warning", function ()
    local _, call, host = run("<Gather finishOnKey=\"\"/>")
    assert.are.equal("", gather_spec(call).finish_on_key)
    assert.are.same({}, host.notifications)
  end)

  it("ignores nested elements other than Say, Play and Pause (12200)", function ()
    local r, call, host = run("<Gather><Hangup/><Say>Hi</Say>"
      .. "<Gather><Say>inner</Say></Gather></Gather><Pause/>")
    assert.are.equal("completed", r)
    assert.are.same({ 12200, 12200 }, host:codes())
    for _, n in ipairs(host.notifications) do
      assert.are.equal("warning", n.level)
    end
    assert.are.same({ "gather", "play", "gather_wait", "pause", "hangup" },
      names_without_prefetch(call))
  end)

  it("ends the document quietly when the caller hangs up while it waits", function ()
    local call = answered_call({ gather = { { nil, "hangup" } } })
    local r, _, host = run("<Gather action=\"/n\"><Say>Hi</Say></Gather><Pause/>", call)
    assert.are.equal("hangup", r)
    assert.are.same({ "gather", "play", "gather_wait" }, names_without_prefetch(call))
    assert.are.same({ URL }, host:urls())
    assert.are.same({}, host.notifications)
  end)

  it("cancels the gather and ends quietly when the caller hangs up in a prompt", function ()
    local call = answered_call({ play = { "hangup" } })
    local r, _, host = run("<Gather><Say>Hi</Say><Pause/></Gather><Pause/>", call)
    assert.are.equal("hangup", r)
    assert.are.same({ "gather", "play", "gather_cancel" }, names_without_prefetch(call))
    assert.are.same({}, host.notifications)
  end)

  it("ends quietly when call:gather finds the call gone", function ()
    local call = answered_call({ gather = { "hangup" } })
    local r, _, host = run("<Gather><Say>Hi</Say></Gather><Pause/>", call)
    assert.are.equal("hangup", r)
    assert.are.same({ "gather" }, names_without_prefetch(call))
    assert.are.same({}, host.notifications)
  end)

  it("reports a gather that cannot start (12400) and runs the next verb", function ()
    local call = answered_call({ gather = { "state" } })
    local r, _, host = run("<Gather><Say>Hi</Say></Gather><Pause length=\"3\"/>", call)
    assert.are.equal("completed", r)
    assert.are.same({ 12400 }, host:codes())
    assert.are.equal("error", host.notifications[1].level)
    assert.are.same({ "gather", "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("answers an unanswered call first", function ()
    local call = fake_call.new()
    local answered_at_gather
    call.script.gather = { function (c)
      answered_at_gather = c.answered
      return { digits = "" }
    end }
    local r = run("<Gather/>", call)
    assert.are.equal("completed", r)
    assert.are.same({ "answer", "gather", "gather_wait", "hangup" },
      names_without_prefetch(call))
    assert.is_true(answered_at_gather)
  end)

  it("does not answer an answered call again", function ()
    local _, call = run("<Gather/>")
    assert.are.same({ "gather", "gather_wait", "hangup" }, names_without_prefetch(call))
  end)

  it("ends quietly when the caller hangs up before the answer", function ()
    local call = fake_call.new({ script = { answer = { "hangup" } } })
    local r, _, host = run("<Gather/><Pause/>", call)
    assert.are.equal("hangup", r)
    assert.are.same({ "answer" }, names_without_prefetch(call))
    assert.are.same({}, host.notifications)
  end)

  it("gathers again in the action's document (the first gather is over)", function ()
    local call = answered_call({ gather = { { digits = "1" }, { digits = "2" } } })
    local doc = 0
    local _, _, host = run("", call, { [URL] = function ()
      doc = doc + 1
      local body = doc <= 2 and "<Response><Gather/></Response>" or NEXT
      return { status = 200, body = body }
    end })
    assert.are.same({ URL, URL, URL }, host:urls())
    assert.are.equal("2", fake_host.param(host.requests[3], "Digits"))
    assert.are.same({}, host.notifications)
  end)
end)
