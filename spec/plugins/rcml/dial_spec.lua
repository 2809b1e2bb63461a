-- plugins/rcml/dial.lua
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

local URL = "http://a/x"

local function run(body, call, extra_docs, options)
  local docs = { [URL] = "<Response>" .. body .. "</Response>" }
  for k, v in pairs(extra_docs or {}) do
    docs[k] = v
  end
  local host = fake_host.new({
    plugins = { "rcml/dial.lua", "rcml/hangup.lua" },
    documents = docs,
    options = options,
  })
  call = call or fake_call.new()
  local r = rcml.run(call, host, { url = URL })
  return r, call, host
end

local function dial_spec(call)
  for _, a in ipairs(call.actions) do
    if a[1] == "dial" then
      return a[2]
    end
  end
end

describe("plugins/rcml/dial.lua", function ()
  it("dials a Number with Restcomm's defaults", function ()
    local _, call = run("<Dial><Number>+131313</Number></Dial>")
    local spec = dial_spec(call)
    assert.are.equal(1, #spec.targets)
    assert.are.equal("number", spec.targets[1].kind)
    assert.are.equal("+131313", spec.targets[1].dest)
    assert.are.equal(30, spec.timeout)
    assert.are.equal(14400, spec.time_limit)
    assert.is_false(spec.hangup_on_star)
  end)

  -- Issue 23: "^%s*(.-)%s*$" backtracked over every run of white space
  -- inside the noun (quadratic: seconds for 40,000 characters). The tree
  -- is built here: the spec's own XML helper is not made for such text.
  it("trims noun text in linear time and skips an overlong one", function ()
    local host = fake_host.new({ plugins = { "rcml/dial.lua" },
      documents = { [URL] = "<Response/>" } })
    local function noun(name, text)
      return { name = name, attrs = {}, text = text, children = {}, line = 1 }
    end
    host.parse_rcml = function ()
      return { name = "Response", attrs = {}, text = "", line = 1, children = {
        { name = "Dial", attrs = {}, text = "", line = 1, children = {
          noun("Number", "1" .. (" "):rep(200000) .. "2"),
          noun("Client", " \t" .. ("b "):rep(1500) .. "c\n "),
        } },
      } }
    end
    local call = fake_call.new()
    local t0 = os.clock()
    rcml.run(call, host, { url = URL })
    assert.is_true(os.clock() - t0 < 2)
    local t = dial_spec(call).targets
    assert.are.equal(1, #t)
    assert.are.equal("client", t[1].kind)
    assert.are.equal(("b "):rep(1500) .. "c", t[1].dest)
    assert.are.same({ 12200 }, host:codes())
  end)

  it("treats bare text as a Number", function ()
    local _, call = run("<Dial> 1-444-555 </Dial>")
    local t = dial_spec(call).targets[1]
    assert.are.equal("number", t.kind)
    assert.are.equal("1-444-555", t.dest)
  end)

  it("forks Number, Client and Sip nouns in one dial", function ()
    local _, call = run("<Dial><Number>1</Number><Client>alice</Client>"
      .. "<Sip username=\"u\" password=\"p\">sip:carol@example.com</Sip></Dial>")
    local t = dial_spec(call).targets
    assert.are.same({ "number", "client", "sip" }, { t[1].kind, t[2].kind, t[3].kind })
    assert.are.equal("alice", t[2].dest)
    assert.are.equal("sip:carol@example.com", t[3].dest)
    assert.are.equal("u", t[3].username)
    assert.are.equal("p", t[3].password)
  end)

  it("turns a ?X-H=v suffix into INVITE headers (decoded, X- only)", function ()
    local _, call = run("<Dial><Number>+1?X-A=1&amp;X-B=a+b%21&amp;Route=no</Number></Dial>")
    local t = dial_spec(call).targets[1]
    assert.are.equal("+1", t.dest)
    assert.are.same({ { "X-A", "1" }, { "X-B", "a b!" } }, t.headers)
  end)

  it("passes timeout, timeLimit, callerId and hangupOnStar", function ()
    local _, call = run("<Dial timeout=\"5\" timeLimit=\"60\" callerId=\"+1555\" "
      .. "hangupOnStar=\"true\"><Number>1</Number></Dial>")
    local spec = dial_spec(call)
    assert.are.equal(5, spec.timeout)
    assert.are.equal(60, spec.time_limit)
    assert.are.equal("+1555", spec.caller_id)
    assert.is_true(spec.hangup_on_star)
  end)

  it("passes the nouns' status callback attributes, resolved", function ()
    local _, call = run("<Dial><Number statusCallback=\"/sc\" statusCallbackMethod=\"GET\" "
      .. "statusCallbackEvent=\"initiated answered\">1</Number></Dial>")
    local t = dial_spec(call).targets[1]
    assert.are.equal("http://a/sc", t.status_callback)
    assert.are.equal("GET", t.status_callback_method)
    assert.are.equal("initiated answered", t.status_events)
  end)

  it("fetches the action with the Dial parameters", function ()
    local call = fake_call.new({ script = { dial = { {
      sid = "CAleg", status = "busy", duration = 0, ring_duration = 4, headers = {},
    } } } })
    local _, _, host = run("<Dial action=\"/after\" method=\"GET\"><Number>1</Number></Dial>",
      call, { ["http://a/after"] = "<Response><Hangup/></Response>" })
    local req = host.requests[2]
    assert.are.equal("http://a/after", req.url)
    assert.are.equal("GET", req.method)
    assert.are.equal("CAleg", fake_host.param(req, "DialCallSid"))
    assert.are.equal("busy", fake_host.param(req, "DialCallStatus"))
    assert.are.equal("0", fake_host.param(req, "DialCallDuration"))
    assert.are.equal("4", fake_host.param(req, "DialRingDuration"))
    assert.is_nil(fake_host.param(req, "DialSipResponseCode"))
  end)

  it("reports DialCallSid=null and no DialRingDuration without a leg", function ()
    local call = fake_call.new({ script = { dial = { { status = "failed", duration = 0 } } } })
    local _, _, host = run("<Dial action=\"/after\"><Client>nobody</Client></Dial>",
      call, { ["http://a/after"] = "<Response/>" })
    local req = host.requests[2]
    assert.are.equal("null", fake_host.param(req, "DialCallSid"))
    assert.are.equal("failed", fake_host.param(req, "DialCallStatus"))
    assert.is_nil(fake_host.param(req, "DialRingDuration"))
  end)

  it("adds the SIP parameters for a Sip noun", function ()
    local call = fake_call.new({ script = { dial = { {
      sid = "CAleg", status = "failed", duration = 0, sip_call_id = "abc@x",
      sip_status = 503, headers = { { "X-Reason", "maintenance" } },
    } } } })
    local _, _, host = run("<Dial action=\"/after\"><Sip>sip:c@x</Sip></Dial>", call,
      { ["http://a/after"] = "<Response/>" })
    local req = host.requests[2]
    assert.are.equal("abc@x", fake_host.param(req, "DialSipCallId"))
    assert.are.equal("503", fake_host.param(req, "DialSipResponseCode"))
    assert.are.equal("maintenance", fake_host.param(req, "DialSipHeader_X-Reason"))
  end)

  it("goes on with the next verb without an action", function ()
    local _, call = run("<Dial><Number>1</Number></Dial><Hangup/>")
    assert.are.same({ "answer", "dial", "hangup" }, call:action_names())
  end)

  -- Restcomm answers the caller when the Dial starts; its 200-OK-delay
  -- switch (our answer_on_dial = false) leaves that to the dialled party.
  it("answers the caller when the Dial starts, unless answer_on_dial is off", function ()
    -- (The document's end hangs up.)
    local _, call = run("<Dial><Number>1</Number></Dial>")
    assert.are.same({ "answer", "dial", "hangup" }, call:action_names())
    local _, late = run("<Dial><Number>1</Number></Dial>", nil, nil,
      { rcml = { dial = { answer_on_dial = false } } })
    assert.are.same({ "dial", "hangup" }, late:action_names())
    local _, already = run("<Dial><Number>1</Number></Dial>", fake_call.new({ answered = true }))
    assert.are.same({ "dial", "hangup" }, already:action_names())
  end)

  it("ends quietly when the caller hangs up during the dial", function ()
    local call = fake_call.new({ script = { dial = { "hangup" } } })
    local r, _, host = run("<Dial action=\"/after\"><Number>1</Number></Dial>", call)
    assert.are.equal("hangup", r)
    assert.are.equal(1, #host.requests)
    assert.are.same({}, host:codes())
  end)

  it("rejects a Dial with nothing to dial", function ()
    local r, call, host = run("<Dial></Dial>")
    assert.are.equal("failed", r)
    assert.is_nil(dial_spec(call))
    assert.are.same({ 12200 }, host:codes())
  end)

  it("ignores unsupported nouns with a warning", function ()
    local _, call, host = run("<Dial><Queue>room</Queue><Number>1</Number></Dial>")
    assert.are.equal(1, #dial_spec(call).targets)
    assert.are.same({ 12200 }, host:codes())
  end)

  describe("<Conference>", function ()
    local function conf_spec(call)
      for _, a in ipairs(call.actions) do
        if a[1] == "conference" then
          return a[2]
        end
      end
    end

    it("joins the room with the defaults and runs the action when it leaves", function ()
      local host = fake_host.new({
        plugins = { "rcml/dial.lua", "rcml/hangup.lua" },
        documents = {
          [URL] = "<Response><Dial action=\"/after\"><Conference>room 1</Conference>"
            .. "</Dial></Response>",
          ["http://a/after"] = "<Response><Hangup/></Response>",
        },
      })
      local call = fake_call.new({ answered = true })
      rcml.run(call, host, { url = URL })
      local c = conf_spec(call)
      assert.are.equal("room 1", c.name)
      assert.is_false(c.muted)
      assert.is_true(c.beep_enter and c.beep_exit and c.start_on_enter)
      assert.is_false(c.end_on_exit)
      assert.are.equal(40, c.max_participants)
      assert.is_true(c.hold_music)
      local req = host.requests[2]
      assert.are.equal("http://a/after", req.url)
      assert.are.equal("completed", fake_host.param(req, "DialCallStatus"))
      assert.are.equal("CF0123456789abcdef0123456789abcdef",
        fake_host.param(req, "ConferenceSid"))
      assert.are.same({}, host.notifications)
    end)

    it("gives a full room's next caller DialCallStatus=busy", function ()
      local host = fake_host.new({
        plugins = { "rcml/dial.lua" },
        documents = {
          [URL] = "<Response><Dial action=\"/after\"><Conference maxParticipants=\"2\">r"
            .. "</Conference></Dial></Response>",
          ["http://a/after"] = "<Response><Hangup/></Response>",
        },
      })
      local call = fake_call.new({ answered = true, script = { conference = { "limit" } } })
      rcml.run(call, host, { url = URL })
      assert.are.equal(2, conf_spec(call).max_participants)
      assert.are.equal("busy", fake_host.param(host.requests[2], "DialCallStatus"))
    end)

    it("plays waitUrl's Play and Say while waiting, skipping other verbs", function ()
      local host = fake_host.new({
        plugins = { "rcml/dial.lua", "rcml/play.lua", "rcml/say.lua" },
        documents = {
          [URL] = "<Response><Dial><Conference startConferenceOnEnter=\"false\" "
            .. "beep=\"onExit\" waitUrl=\"/wait\">r</Conference></Dial></Response>",
          ["http://a/wait"] = "<Response><Say>please hold</Say><Hangup/>"
            .. "<Play>m.wav</Play></Response>",
        },
      })
      -- waiting(): once before the loop, then once per round.
      local call = fake_call.new({ answered = true, script = { conference_waits = 3 } })
      rcml.run(call, host, { url = URL })
      local c = conf_spec(call)
      assert.is_false(c.start_on_enter)
      assert.is_false(c.beep_enter)
      assert.is_true(c.beep_exit)
      assert.is_false(c.hold_music)
      local plays = 0
      for _, a in ipairs(call.actions) do
        plays = plays + (a[1] == "play" and 1 or 0)
      end
      assert.are.equal(4, plays)          -- two rounds of Say and Play
      assert.are.same({ 12200 }, host:codes())  -- <Hangup>, once
    end)

    it("reports an empty room name and bad attributes", function ()
      local r, _, host = run("<Dial><Conference>  </Conference></Dial>")
      assert.are.equal("failed", r)
      assert.are.same({ 12200 }, host:codes())
      local _, call2, host2 = run("<Dial><Conference muted=\"maybe\" "
        .. "maxParticipants=\"0\">r</Conference></Dial>", fake_call.new({ answered = true }))
      assert.are.same({ 12200, 12200 }, host2:codes())
      assert.is_false(conf_spec(call2).muted)
      assert.are.equal(40, conf_spec(call2).max_participants)
    end)
  end)

  it("passes ringTone as ring_tone (any case, Twilio's country codes)", function ()
    for _, tone in ipairs({ "uk", "at", "za", "US", "Jp" }) do
      local _, call, host = run(("<Dial ringTone=\"%s\"><Number>1</Number></Dial>"):format(tone))
      assert.are.equal(tone:lower(), dial_spec(call).ring_tone)
      assert.are.same({}, host.notifications)
    end
  end)

  it("leaves ring_tone to the server's default without ringTone", function ()
    local _, call = run("<Dial><Number>1</Number></Dial>")
    assert.is_nil(dial_spec(call).ring_tone)
  end)

  for _, bad in ipairs({ "gb", "usa", "", "u k" }) do
    it(("warns about ringTone=\"%s\" and uses the default"):format(bad), function ()
      local r, call, host = run(("<Dial ringTone=\"%s\"><Number>1</Number></Dial>"):format(bad))
      assert.are.equal("completed", r)
      assert.is_nil(dial_spec(call).ring_tone)
      assert.are.same({ 12200 }, host:codes())
      assert.are.equal("warning", host.notifications[1].level)
      assert.matches("ringTone", host.notifications[1].message)
    end)
  end

  it("does not record by default", function ()
    local _, call, host = run("<Dial><Number>1</Number></Dial>")
    assert.are.equal("none", dial_spec(call).record)
    assert.are.same({}, host.notifications)
  end)

  local modes = {
    { "true", "mixed" }, { "TRUE", "mixed" }, { "record-from-answer", "mixed" },
    { "record-from-answer-dual", "dual" }, { "false", "none" },
    { "do-not-record", "none" },
  }
  for _, m in ipairs(modes) do
    it(("passes record=\"%s\" as record = \"%s\""):format(m[1], m[2]), function ()
      local _, call, host = run(("<Dial record=\"%s\"><Number>1</Number></Dial>"):format(m[1]))
      assert.are.equal(m[2], dial_spec(call).record)
      assert.are.same({}, host.notifications)
    end)
  end

  for _, bad in ipairs({ "yes", "", "record-from-ringing", "mixed" }) do
    it(("warns about record=\"%s\" (12200) and does not record"):format(bad), function ()
      local r, call, host = run(("<Dial record=\"%s\"><Number>1</Number></Dial>"):format(bad))
      assert.are.equal("completed", r)
      assert.are.equal("none", dial_spec(call).record)
      assert.are.same({ 12200 }, host:codes())
      assert.are.equal("warning", host.notifications[1].level)
      assert.matches("record", host.notifications[1].message)
    end)
  end

  it("sends RecordingUrl and PublicRecordingUrl with a recording", function ()
    local wav = "http://10.0.0.1:8080/restcomm/2012-04-24/Accounts/AC1/Recordings/RE1.wav"
    local call = fake_call.new({ script = { dial = { {
      sid = "CAleg", status = "completed", duration = 12, ring_duration = 3,
      headers = {}, recording_url = wav,
    } } } })
    local _, _, host = run("<Dial action=\"/after\" record=\"true\"><Number>1</Number></Dial>",
      call, { ["http://a/after"] = "<Response/>" })
    local req = host.requests[2]
    assert.are.equal(wav, fake_host.param(req, "RecordingUrl"))
    assert.are.equal(wav, fake_host.param(req, "PublicRecordingUrl"))
    assert.are.equal("completed", fake_host.param(req, "DialCallStatus"))
  end)

  it("sends no RecordingUrl without a recording", function ()
    local call = fake_call.new({ script = { dial = { {
      sid = "CAleg", status = "no-answer", duration = 0, headers = {},
    } } } })
    local _, _, host = run("<Dial action=\"/after\" record=\"true\"><Number>1</Number></Dial>",
      call, { ["http://a/after"] = "<Response/>" })
    local req = host.requests[2]
    assert.is_nil(fake_host.param(req, "RecordingUrl"))
    assert.is_nil(fake_host.param(req, "PublicRecordingUrl"))
  end)

  it("reports an invalid timeout and uses the default", function ()
    local _, call, host = run("<Dial timeout=\"soon\"><Number>1</Number></Dial>")
    assert.are.equal(30, dial_spec(call).timeout)
    assert.are.same({ 13212 }, host:codes())
  end)
end)
