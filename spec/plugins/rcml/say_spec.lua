-- plugins/rcml/say.lua
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

local URL = "http://a.test/app/x.xml"

local function run(body, call)
  local host = fake_host.new({
    plugins = { "rcml/say.lua", "rcml/play.lua", "rcml/pause.lua" },
    documents = { [URL] = "<Response>" .. body .. "</Response>" },
  })
  call = call or fake_call.new()
  return rcml.run(call, host, { url = URL }), call, host
end

local function plays(call)
  local out = {}
  for _, a in ipairs(call.actions) do
    if a[1] == "play" then
      out[#out + 1] = a[2]
    end
  end
  return out
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

describe("plugins/rcml/say.lua", function ()
  it("says the text once with Restcomm's defaults (man, en)", function ()
    local r, call, host = run("<Say>Hello, world.</Say>")
    assert.are.equal("completed", r)
    assert.are.same({ { text = "Hello, world.", voice = "man", language = "en", loop = 1 } },
      plays(call))
    assert.are.same({}, host.notifications)
  end)

  it("passes voice, language and loop", function ()
    local _, call = run("<Say voice=\"woman\" language=\"en-gb\" loop=\"0\">Hi</Say>")
    assert.are.same({ text = "Hi", voice = "woman", language = "en-gb", loop = 0 },
      plays(call)[1])
  end)

  for _, v in ipairs({ "MAN", "Woman", "alice", "Polly.Joanna", "Google.en-US-Standard-C" }) do
    it(("accepts voice=\"%s\""):format(v), function ()
      local _, call, host = run(("<Say voice=\"%s\">Hi</Say>"):format(v))
      assert.are.same({}, host.notifications)
      local want = ({ MAN = "man", Woman = "woman" })[v] or v
      assert.are.equal(want, plays(call)[1].voice)
    end)
  end

  it("reports an unknown voice as 13511 and uses man", function ()
    local _, call, host = run("<Say voice=\"robot\">Hi</Say>")
    assert.are.same({ 13511 }, host:codes())
    assert.are.equal("warning", host.notifications[1].level)
    assert.matches("robot", host.notifications[1].message)
    assert.are.equal("man", plays(call)[1].voice)
  end)

  for _, bad in ipairs({ "-2", "many", "" }) do
    it(("reports loop=\"%s\" as 13510 and says it once"):format(bad), function ()
      local _, call, host = run(("<Say loop=\"%s\">Hi</Say>"):format(bad))
      assert.are.same({ 13510 }, host:codes())
      assert.are.equal(1, plays(call)[1].loop)
    end)
  end

  it("reports an empty text (13520) and runs the next verb", function ()
    local r, call, host = run("<Say></Say><Say>  \n\t </Say><Pause length=\"3\"/>")
    assert.are.equal("completed", r)
    assert.are.same({ 13520, 13520 }, host:codes())
    assert.are.equal("warning", host.notifications[1].level)
    assert.are.same({ "pause", "hangup" }, names_without_prefetch(call))
    assert.are.equal(3, call.actions[#call.actions - 1][2])
  end)

  it("reports a text over 4096 characters (13520) and runs the next verb", function ()
    local _, call, host = run(("<Say>%s</Say><Pause/>"):format(("a"):rep(4097)))
    assert.are.same({ 13520 }, host:codes())
    assert.matches("longer than 4096", host.notifications[1].message)
    assert.are.same({ "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("counts characters, not bytes: 4096 accented letters are fine", function ()
    local _, call, host = run(("<Say>%s</Say>"):format(("é"):rep(4096)))
    assert.are.same({}, host.notifications)
    assert.are.equal(1, #plays(call))
  end)

  it("warns (13512) when English was used for an unknown language", function ()
    local call = fake_call.new({ script = { play = { { true, { language_fallback = true } } } } })
    local r, _, host = run("<Say language=\"tlh\">Qapla</Say><Pause/>", call)
    assert.are.equal("completed", r)
    assert.are.same({ 13512 }, host:codes())
    assert.are.equal("warning", host.notifications[1].level)
    assert.matches("\"tlh\".*English", host.notifications[1].message)
    assert.are.same({ "play", "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("reports the synthesizer's refusals: invalid/too-big 13520, others 12400", function ()
    local call = fake_call.new({ script = { play = {
      { nil, "too-big", "text longer than 4096 characters" },
      { nil, "invalid", "empty text" },
      { nil, "format", "the synthesizer failed" },
    } } })
    local r, _, host = run("<Say>a</Say><Say>b</Say><Say>c</Say><Pause/>", call)
    assert.are.equal("completed", r)
    assert.are.same({ 13520, 13520, 12400 }, host:codes())
    assert.are.same({ "warning", "warning", "error" },
      { host.notifications[1].level, host.notifications[2].level, host.notifications[3].level })
    assert.matches("synthesizer failed", host.notifications[3].message)
    assert.are.same({ "play", "play", "play", "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("ends the document quietly on hangup", function ()
    local call = fake_call.new({ script = { play = { "hangup" } } })
    local r, _, host = run("<Say loop=\"0\">Hold on</Say><Pause/>", call)
    assert.are.equal("hangup", r)
    assert.are.same({ "play" }, names_without_prefetch(call))
    assert.are.same({}, host.notifications)
  end)

  it("treats \"interrupted\" (a Gather's input) as the end of the Say", function ()
    local call = fake_call.new({ script = { play = {
      { nil, "interrupted", "interrupted by the caller's input" },
    } } })
    local r, _, host = run("<Say>Press one</Say><Say>or two</Say><Pause/>", call)
    assert.are.equal("completed", r)
    assert.are.same({}, host.notifications)
    assert.are.same({ "play", "play", "pause", "hangup" }, names_without_prefetch(call))
  end)

  it("is prefetched with the same voice and language it will use", function ()
    local _, call = run("<Pause/><Say voice=\"WOMAN\" language=\"es\">Hola</Say>")
    assert.are.equal("prefetch", call.actions[1][1])
    local item = call.actions[1][2][1]
    local p = plays(call)[1]
    assert.are.same({ item.text, item.voice, item.language }, { p.text, p.voice, p.language })
  end)

  it("keeps the text's inner whitespace and entities", function ()
    local _, call = run("<Say>Tom &amp; Jerry,\n  twice</Say>")
    assert.are.equal("Tom & Jerry,\n  twice", plays(call)[1].text)
  end)
end)
