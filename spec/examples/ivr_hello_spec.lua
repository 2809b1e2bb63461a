-- examples/ivr-hello: hello.xml (read from the example folder) and the
-- text/plain goodbye app.py serves, run by the shipped verb plugins.
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

local BASE = "http://127.0.0.1:8090/"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function run(call)
  local goodbye = read("examples/ivr-hello/app.py"):match('GOODBYE = "(.-)"')
  assert(goodbye, "GOODBYE not found in app.py")
  local host = fake_host.new({
    plugins = { "rcml/say.lua", "rcml/play.lua", "rcml/pause.lua",
                "rcml/redirect.lua", "rcml/hangup.lua" },
    documents = {
      [BASE .. "hello.xml"] = read("examples/ivr-hello/hello.xml"),
      [BASE .. "goodbye.txt"] = { body = goodbye, content_type = "text/plain; charset=utf-8" },
    },
  })
  call = call or fake_call.new()
  local r = rcml.run(call, host, { url = BASE .. "hello.xml", method = "GET" })
  return r, call, host, goodbye
end

describe("examples: ivr-hello", function ()
  it("prefetches the whole document before the first prompt", function ()
    local _, call = run()
    assert.are.equal("prefetch", call.actions[1][1])
    local list = call.actions[1][2]
    assert.are.same({ text = "Hello, and welcome to Switchboard.", voice = "woman",
      language = "en-gb" }, list[1])
    assert.are.same({ url = BASE .. "chime.wav" }, list[2])
    assert.are.equal("man", list[3].voice)
    assert.matches("^This sentence", list[3].text)
    assert.are.same({ text = "Hasta luego.", voice = "man", language = "es" }, list[4])
    assert.are.equal(4, #list)
  end)

  it("says, plays, pauses, plays digits, then says the text/plain goodbye", function ()
    local r, call, host, goodbye = run()
    assert.are.equal("completed", r)
    assert.are.same({}, host.notifications)
    assert.are.same({ "prefetch", "play", "play", "pause", "play", "play",
      "play", "prefetch", "play", "hangup" }, call:action_names())
    local a = call.actions
    assert.are.equal("woman", a[2][2].voice)
    assert.are.equal(BASE .. "chime.wav", a[3][2].url)
    assert.are.equal(1, a[4][2])
    assert.are.equal("w1w2w3", a[6][2].digits)
    assert.are.equal("es", a[7][2].language)
    assert.are.equal(goodbye, a[9][2].text)
    assert.are.same({ BASE .. "hello.xml", BASE .. "goodbye.txt" }, host:urls())
    assert.are.equal("GET", host.requests[2].method)
  end)

  it("goes on past a missing chime with Notification 21402", function ()
    local call = fake_call.new({ script = { play = {
      true, { nil, "not-found", "HTTP 404 from " .. BASE .. "chime.wav" },
    } } })
    local r, _, host = run(call)
    assert.are.equal("completed", r)
    assert.are.same({ 21402 }, host:codes())
    assert.are.same({ "prefetch", "play", "play", "pause", "play", "play",
      "play", "prefetch", "play", "hangup" }, call:action_names())
  end)
end)
