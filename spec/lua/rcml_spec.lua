-- switchboard.rcml: the interpreter, driven by a fake host and fake call,
-- with the shipped verb plugins loaded by the real plugin manager.
local rcml = require "switchboard.rcml"
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"

local VERBS = {
  "rcml/hangup.lua", "rcml/pause.lua", "rcml/redirect.lua", "rcml/reject.lua",
}
local APP = "http://app.test/voice/start.xml"

local function host_with(documents, extra)
  local list = {}
  for _, p in ipairs(VERBS) do
    list[#list + 1] = p
  end
  for _, p in ipairs(extra or {}) do
    list[#list + 1] = p
  end
  return fake_host.new({ documents = documents, plugins = list })
end

local function doc(body)
  return "<?xml version=\"1.0\"?>\n<Response>" .. body .. "</Response>"
end

describe("switchboard.rcml", function ()
  describe("fetching", function ()
    it("POSTs the standard parameters plus the app's extras", function ()
      local host = host_with({ [APP] = doc("<Hangup/>") })
      local call = fake_call.new({ headers = { { "X-My-Header", "v" } } })
      local r = rcml.run(call, host, {
        url = APP, params = { { "ReferTarget", "alice" } },
      })
      assert.are.equal("completed", r)
      assert.are.equal(1, #host.requests)
      local req = host.requests[1]
      assert.are.equal(APP, req.url)
      assert.are.equal("POST", req.method)
      assert.are.equal(call.sid, fake_host.param(req, "CallSid"))
      assert.are.equal("ringing", fake_host.param(req, "CallStatus"))
      assert.are.equal("2012-04-24", fake_host.param(req, "ApiVersion"))
      assert.are.equal("alice", fake_host.param(req, "ReferTarget"))
      assert.are.equal("v", fake_host.param(req, "SipHeader_X-My-Header"))
      assert.are.same({ "hangup" }, call:action_names())
    end)

    it("uses GET when the app says so, and drops the fragment", function ()
      local host = host_with({ [APP] = doc("") })
      rcml.run(fake_call.new(), host, { url = APP .. "#frag", method = "get" })
      assert.are.equal("GET", host.requests[1].method)
      assert.are.equal(APP, host.requests[1].url)
    end)

    it("passes a timeout and a size cap to the fetch", function ()
      local host = host_with({ [APP] = doc("") })
      rcml.run(fake_call.new(), host, { url = APP, timeout = 3 })
      assert.are.equal(3, host.requests[1].timeout)
      assert.are.equal(rcml.MAX_DOCUMENT_BYTES, host.requests[1].max_bytes)
    end)

    it("hangs up at the end of the document", function ()
      local host = host_with({ [APP] = doc("<Pause length=\"2\"/>") })
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.same({ "pause", "hangup" }, call:action_names())
      assert.are.equal(2, call.actions[1][2])
      assert.are.same({}, host.notifications)
    end)
  end)

  describe("failures", function ()
    local function fails_with(documents, code, app)
      local host = host_with(documents)
      local call = fake_call.new()
      local r = rcml.run(call, host, app or { url = APP })
      assert.are.equal("failed", r)
      assert.are.same({ code }, host:codes())
      assert.are.equal("error", host.notifications[1].level)
      assert.are.equal(call.sid, host.notifications[1].call_sid)
      assert.are.same({ "hangup" }, call:action_names())
      return host.notifications[1], host
    end

    it("a document that is not XML: 12100", function ()
      local n = fails_with({ [APP] = "this is not XML" }, 12100)
      assert.are.equal(APP, n.url)
      assert.are.equal("POST", n.method)
      assert.are.equal("this is not XML", n.body)
    end)

    it("a wrong root element: 12200", function ()
      fails_with({ [APP] = "<html><body/></html>" }, 12200)
    end)

    it("entity declarations: 12100", function ()
      fails_with({ [APP] = "<!DOCTYPE r [<!ENTITY a \"b\">]><Response/>" }, 12100)
    end)

    it("HTTP 404: 21402", function ()
      fails_with({}, 21402)
    end)

    it("another HTTP error: 11200", function ()
      fails_with({ [APP] = { status = 500, body = "oops" } }, 11200)
    end)

    it("an application URL that never answers (timeout): 11205", function ()
      local n = fails_with({ [APP] = { err = "timeout", message = "timed out after 10 s" } }, 11205)
      assert.matches("timed out", n.message)
    end)

    it("a refused connection: 11205", function ()
      fails_with({ [APP] = { err = "network" } }, 11205)
    end)

    it("a response over the size cap: 11206", function ()
      fails_with({ [APP] = { err = "too-big" } }, 11206)
    end)

    it("a content type that is not XML, audio or text/plain: 12300", function ()
      fails_with({ [APP] = { body = doc(""), content_type = "application/json" } }, 12300)
    end)

    it("an invalid application URL: 11100", function ()
      local _, host = fails_with({}, 11100, { url = "ftp://x/y" })
      assert.are.equal(0, #host.requests)
    end)

    it("no application URL at all: 11100", function ()
      fails_with({}, 11100, {})
    end)
  end)

  describe("content types", function ()
    for _, ct in ipairs({ "text/xml", "application/xml; charset=utf-8",
      "text/html", "application/rcml+xml", false }) do
      it(("accepts %s"):format(tostring(ct)), function ()
        local host = host_with({ [APP] = { body = doc(""), content_type = ct } })
        assert.are.equal("completed", rcml.run(fake_call.new(), host, { url = APP }))
      end)
    end
  end)

  describe("a first document fetched already (REST live call modification)", function ()
    it("runs it without requesting the Url again", function ()
      local host = host_with({ [APP] = doc("<Hangup/>") })
      local call = fake_call.new()
      local r = rcml.run(call, host, { url = APP, document = {
        status = 200, body = doc("<Pause/>"), content_type = "text/xml", url = APP,
      } })
      assert.are.equal("completed", r)
      assert.are.same({}, host:urls())
      assert.are.same({ "pause", "hangup" }, call:action_names())
    end)

    it("resolves the next document against the fetched one's final URL", function ()
      local moved = "http://moved.test/app/first.xml"
      local host = host_with({ ["http://moved.test/app/next.xml"] = doc("<Hangup/>") })
      local r = rcml.run(fake_call.new(), host, { url = APP, document = {
        status = 200, body = doc("<Redirect>next.xml</Redirect>"),
        content_type = "text/xml", url = moved,
      } })
      assert.are.equal("completed", r)
      assert.are.same({ "http://moved.test/app/next.xml" }, host:urls())
    end)
  end)

  describe("fallback URL", function ()
    local FB = "http://fallback.test/fb.xml"

    it("is fetched once, with its own method, when the first fetch fails", function ()
      local host = host_with({
        [APP] = { err = "timeout" },
        [FB] = doc("<Pause/>"),
      })
      local call = fake_call.new()
      local r = rcml.run(call, host, { url = APP, fallback_url = FB, fallback_method = "GET" })
      assert.are.equal("completed", r)
      assert.are.same({ APP, FB }, host:urls())
      assert.are.equal("GET", host.requests[2].method)
      assert.are.same({ 11205 }, host:codes())
      assert.are.same({ "pause", "hangup" }, call:action_names())
    end)

    it("is fetched when the first document does not parse", function ()
      local host = host_with({ [APP] = "junk", [FB] = doc("") })
      assert.are.equal("completed", rcml.run(fake_call.new(), host,
        { url = APP, fallback_url = FB }))
      assert.are.same({ 12100 }, host:codes())
    end)

    it("failing too gives two notifications and a hangup", function ()
      local host = host_with({ [APP] = { status = 500 } })
      local call = fake_call.new()
      assert.are.equal("failed", rcml.run(call, host, { url = APP, fallback_url = FB }))
      assert.are.same({ 11200, 21402 }, host:codes())
      assert.are.equal(FB, host.notifications[2].url)
      assert.are.same({ "hangup" }, call:action_names())
    end)

    it("is not used for a redirect target", function ()
      local host = host_with({ [APP] = doc("<Redirect>missing.xml</Redirect>") })
      assert.are.equal("failed", rcml.run(fake_call.new(), host,
        { url = APP, fallback_url = FB }))
      assert.are.same({ APP, "http://app.test/voice/missing.xml" }, host:urls())
    end)
  end)

  describe("verbs", function ()
    it("run in order; Hangup stops the document", function ()
      local host = host_with({ [APP] = doc([[
        <Pause length="1"/><Pause length="3"/><Hangup/><Pause length="9"/>
      ]]) })
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.same({ "pause", "pause", "hangup" }, call:action_names())
      assert.are.equal(3, call.actions[2][2])
    end)

    it("skip an unknown verb with a warning notification", function ()
      local host = host_with({ [APP] = doc("<Dance/><Pause/>") })
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.same({ 12200 }, host:codes())
      assert.are.equal("warning", host.notifications[1].level)
      assert.matches("unknown verb <Dance>", host.notifications[1].message)
      assert.are.same({ "pause", "hangup" }, call:action_names())
    end)

    it("warn about an invalid attribute and use its default", function ()
      local host = host_with({ [APP] = doc("<Pause length=\"soon\"/>") })
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      assert.are.same({ 13910 }, host:codes())
      assert.are.equal("warning", host.notifications[1].level)
      assert.are.equal(1, call.actions[1][2])
    end)

    it("end quietly when the call hangs up during a wait", function ()
      local host = host_with({ [APP] = doc("<Pause/><Pause/><Pause/>") })
      local call = fake_call.new({ script = { pause = { true, "hangup" } } })
      assert.are.equal("hangup", rcml.run(call, host, { url = APP }))
      assert.are.same({ "pause", "pause" }, call:action_names())
      assert.are.same({}, host.notifications)
    end)

    it("stop when the call ended between verbs", function ()
      local host = host_with({ [APP] = doc("<Pause/><Pause/>") })
      local call = fake_call.new({ script = { pause = { function (c)
        c:remote_hangup()
        return true
      end } } })
      assert.are.equal("hangup", rcml.run(call, host, { url = APP }))
      assert.are.same({ "pause", "remote_hangup" }, call:action_names())
    end)

    it("contain a plugin error: 12400, logged with the plugin, hangup", function ()
      local host = host_with({ [APP] = doc("<Boom/><Pause/>") })
      assert(host:add_plugin("test.boom", [[
        plugin:verb("Boom", function () error("kaboom") end)
      ]]))
      local call = fake_call.new()
      assert.are.equal("failed", rcml.run(call, host, { url = APP }))
      assert.are.same({ 12400 }, host:codes())
      assert.matches("Boom.*plugin test.boom.*kaboom", host.notifications[1].message)
      local found = false
      for _, l in ipairs(host.logs) do
        if l[1] == "error" and l[2]:find("plugin test.boom: verb Boom failed", 1, true) then
          found = true
        end
      end
      assert.is_true(found)
      assert.are.same({ "hangup" }, call:action_names())
    end)

    it("report a verb's nil, reason as a failure", function ()
      local host = host_with({ [APP] = doc("<Redirect></Redirect>") })
      local call = fake_call.new()
      assert.are.equal("failed", rcml.run(call, host, { url = APP }))
      assert.are.same({ 12200 }, host:codes())
      assert.matches("needs a URL", host.notifications[1].message)
    end)

    it("treat a verb that returns nothing as done", function ()
      local host = host_with({ [APP] = doc("<Quiet/><Pause/>") })
      assert(host:add_plugin("test.quiet", [[plugin:verb("Quiet", function () end)]]))
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.same({ "pause", "hangup" }, call:action_names())
    end)

    it("give a verb its converted attributes, text and children", function ()
      local seen
      local host = host_with({ [APP] = doc([[
        <Probe n="7" flag="TRUE" how="Busy" extra="raw"> text <Pause/><Say>x</Say></Probe>
      ]]) })
      host.manager.globals.keep = function (node, ctx) seen = { node = node, ctx = ctx } end
      assert(host:add_plugin("test.probe", [[
        plugin:verb("Probe", {
          attrs = {
            n = { type = "integer" }, flag = { type = "boolean" },
            how = { type = "enum", values = { "busy", "rejected" } },
            absent = { type = "number", default = 1.5 },
          },
          nests = { "Pause" },
        }, function (call, node, ctx) keep(node, ctx) end)
      ]]))
      rcml.run(fake_call.new(), host, { url = APP })
      assert.are.same({ n = 7, flag = true, how = "busy", extra = "raw", absent = 1.5 },
        seen.node.attrs)
      assert.are.equal("text", seen.node.text)
      assert.are.equal(1, #seen.node.children)
      assert.are.same({ 12200 }, host:codes())      -- <Say> not allowed inside
      assert.are.equal(APP, seen.ctx.url)
      assert.are.equal("http://app.test/voice/x", seen.ctx:resolve("x"))
    end)

    it("fail a verb whose required attribute is missing", function ()
      local host = host_with({ [APP] = doc("<Need/>") })
      assert(host:add_plugin("test.need", [[
        plugin:verb("Need", { attrs = { to = { required = true } } }, function () end)
      ]]))
      assert.are.equal("failed", rcml.run(fake_call.new(), host, { url = APP }))
      assert.matches("attribute to is required", host.notifications[1].message)
    end)

    it("run nested verbs through ctx:run", function ()
      local host = host_with({ [APP] = doc([[
        <Wrap><Pause length="2"/><Pause length="3"/></Wrap><Pause length="4"/>
      ]]) })
      assert(host:add_plugin("test.wrap", [[
        plugin:verb("Wrap", { nests = { "Pause" } }, function (call, node, ctx)
          return ctx:run(node.children)
        end)
      ]]))
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      assert.are.same({ "pause", "pause", "pause", "hangup" }, call:action_names())
      assert.are.equal(4, call.actions[3][2])
    end)

    it("follow an action URL returned by a verb, with its parameters", function ()
      local host = host_with({
        [APP] = doc("<Act/>"),
        ["http://app.test/voice/done"] = doc("<Pause/>"),
      })
      assert(host:add_plugin("test.act", [[
        plugin:verb("Act", function ()
          return { url = "done", method = "GET", params = { Digits = "12" } }
        end)
      ]]))
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      local req = host.requests[2]
      assert.are.equal("http://app.test/voice/done", req.url)
      assert.are.equal("GET", req.method)
      assert.are.equal("12", fake_host.param(req, "Digits"))
      assert.are.equal(call.sid, fake_host.param(req, "CallSid"))
    end)
  end)

  describe("Redirect", function ()
    it("resolves a relative URL against the current document", function ()
      local host = host_with({
        [APP] = doc("<Redirect method=\"GET\">../next.xml?x=1</Redirect><Pause/>"),
        ["http://app.test/next.xml?x=1"] = doc("<Hangup/>"),
      })
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.same({ APP, "http://app.test/next.xml?x=1" }, host:urls())
      assert.are.equal("GET", host.requests[2].method)
      assert.are.same({ "hangup" }, call:action_names())
    end)

    it("resolves against the final URL after HTTP redirects", function ()
      local host = host_with({
        [APP] = { body = doc("<Redirect>b.xml</Redirect>"), url = "http://other.test/x/a.xml" },
        ["http://other.test/x/b.xml"] = doc(""),
      })
      rcml.run(fake_call.new(), host, { url = APP })
      assert.are.equal("http://other.test/x/b.xml", host.requests[2].url)
    end)

    it("bounds a loop: the 11th redirect in a row ends the call", function ()
      local host = host_with({ [APP] = doc("<Redirect>start.xml</Redirect>") })
      local call = fake_call.new()
      assert.are.equal("failed", rcml.run(call, host, { url = APP }))
      assert.are.equal(11, #host.requests)
      assert.are.same({ 11215 }, host:codes())
      assert.are.same({ "hangup" }, call:action_names())
    end)

    it("does not count documents that ran another verb", function ()
      local n = 0
      local host = host_with({ [APP] = function (req)
        n = n + 1
        local body = n < 25 and "<Pause length=\"1\"/><Redirect>start.xml</Redirect>"
          or "<Hangup/>"
        return { status = 200, body = doc(body), url = req.url }
      end })
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.equal(25, n)
      assert.are.same({}, host.notifications)
    end)

    it("counts a verb that went to its action as progress (a Record loop)", function ()
      local n = 0
      local host = host_with({ [APP] = function (req)
        n = n + 1
        local body = n < 25 and "<Record/>" or "<Hangup/>"
        return { status = 200, body = doc(body), url = req.url }
      end })
      assert(host:add_plugin("test.record", [[
        plugin:verb("Record", {}, function (call, node, ctx)
          return { url = ctx.url, params = { { "RecordingSid", "RE1" } } }
        end)
      ]]))
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.equal(25, n)
      assert.are.same({}, host.notifications)
    end)

    it("honours a smaller max_redirects", function ()
      local host = host_with({ [APP] = doc("<Redirect>start.xml</Redirect>") })
      rcml.run(fake_call.new(), host, { url = APP, max_redirects = 2 })
      assert.are.equal(3, #host.requests)
    end)
  end)

  describe("the rcml.document hook", function ()
    it("may rewrite the text through ev.text", function ()
      local host = host_with({ [APP] = doc("<Pause length=\"$n\"/>") })
      assert(host:add_plugin("test.rewrite", [[
        plugin:hook("rcml.document", function (ev)
          ev.text = ev.text:gsub("%$n", "5")
        end)
      ]]))
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      assert.are.equal(5, call.actions[1][2])
    end)

    it("may replace the text by returning a string", function ()
      local host = host_with({ [APP] = "not even xml" })
      assert(host:add_plugin("test.replace", [[
        plugin:hook("rcml.document", function (ev)
          assert(ev.url and ev.method == "POST" and ev.call and ev.params)
          return "<Response><Pause length='7'/></Response>"
        end)
      ]]))
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.equal(7, call.actions[1][2])
    end)

    it("with visual_designer substitutes $core_ variables", function ()
      local host = host_with({
        [APP] = doc("<Redirect>next?from=$core_From&amp;h=$core_x_my_header$nothing</Redirect>"),
        ["http://app.test/voice/next?from=bob&h=v"] = doc("<Hangup/>"),
      }, { "visual_designer.lua" })
      local call = fake_call.new({ headers = { { "X-My-Header", "v" } } })
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.same({ "hangup" }, call:action_names())
    end)
  end)

  it("stops before fetching when the call is already gone", function ()
    local host = host_with({ [APP] = doc("") })
    local call = fake_call.new()
    call:remote_hangup()
    assert.are.equal("hangup", rcml.run(call, host, { url = APP }))
    assert.are.equal(0, #host.requests)
  end)

  describe("the pre-scan", function ()
    local MEDIA = { "rcml/play.lua", "rcml/say.lua" }

    local function prefetches(call)
      local out = {}
      for _, a in ipairs(call.actions) do
        if a[1] == "prefetch" then
          out[#out + 1] = a[2]
        end
      end
      return out
    end

    it("prefetches every Play URL (resolved) and Say text once, before any verb", function ()
      local host = host_with({ [APP] = doc([[
        <Say voice="woman" language="es">Hola</Say>
        <Play>intro.wav</Play>
        <Pause/>
        <Wrap>
          <Say>Press one</Say>
          <Play>/prompts/menu.mp3#v2</Play>
          <Play>http://cdn.test/a.wav</Play>
        </Wrap>
        <Say>Hola</Say>
        <Say voice="woman" language="es">Hola</Say>
        <Play loop="0">intro.wav</Play>
        <Hangup/>
      ]]) }, MEDIA)
      assert(host:add_plugin("test.wrap", [[
        plugin:verb("Wrap", function (call, node, ctx) return ctx:run(node.children) end)
      ]]))
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.equal("prefetch", call.actions[1][1])
      assert.are.equal(1, #prefetches(call))
      assert.are.same({
        { text = "Hola", voice = "woman", language = "es" },
        { url = "http://app.test/voice/intro.wav" },
        { text = "Press one", voice = "man", language = "en" },
        { url = "http://app.test/prompts/menu.mp3" },
        { url = "http://cdn.test/a.wav" },
        { text = "Hola", voice = "man", language = "en" },
      }, prefetches(call)[1])
      -- and the verbs then play the same things
      assert.are.same({ "prefetch", "play", "play", "pause", "play", "play",
        "play", "play", "play", "play", "hangup" }, call:action_names())
      assert.are.equal("http://app.test/prompts/menu.mp3", call.actions[6][2].url)
    end)

    it("resolves against the final URL after HTTP redirects", function ()
      local host = host_with({
        [APP] = { body = doc("<Play>../b.wav</Play>"), url = "http://other.test/x/y/a.xml" },
      }, MEDIA)
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      assert.are.same({ { url = "http://other.test/x/b.wav" } }, prefetches(call)[1])
    end)

    it("prefetches each document of a Redirect chain", function ()
      local host = host_with({
        [APP] = doc("<Say>one</Say><Redirect>two.xml</Redirect>"),
        ["http://app.test/voice/two.xml"] = doc("<Play>two.wav</Play>"),
      }, MEDIA)
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      local p = prefetches(call)
      assert.are.equal(2, #p)
      assert.are.same({ { text = "one", voice = "man", language = "en" } }, p[1])
      assert.are.same({ { url = "http://app.test/voice/two.wav" } }, p[2])
    end)

    it("skips what the verb will not play: empty, digits, bad URL, long text", function ()
      local host = host_with({ [APP] = doc(([[
        <Play></Play><Play digits="123">x.wav</Play><Play>ftp://h/x.wav</Play>
        <Say>   </Say><Say>%s</Say><Pause/>
      ]]):format(("a"):rep(4097))) }, MEDIA)
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      assert.are.same({}, prefetches(call))
    end)

    it("does nothing without Play or Say plugins", function ()
      local host = host_with({ [APP] = doc("<Play>x.wav</Play><Say>hi</Say>") })
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      assert.are.same({}, prefetches(call))
    end)

    it("uses the defaults of invalid attributes, silently (the verb reports)", function ()
      local host = host_with({ [APP] = doc("<Say voice=\"robot\" loop=\"x\">hi</Say>") }, MEDIA)
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      assert.are.same({ { text = "hi", voice = "man", language = "en" } }, prefetches(call)[1])
      assert.are.same({ 13510, 13511 }, host:codes())
    end)

    it("gives a verb's prefetch its converted attributes and the ctx", function ()
      local host = host_with({ [APP] = doc(
        "<Warm flag=\"false\" n=\"x\" keep=\"raw\">a.wav</Warm>") })
      assert(host:add_plugin("test.warm", [[
        plugin:verb("Warm", {
          attrs = { flag = { type = "boolean", default = true },
                    n = { type = "integer", default = 7 } },
          prefetch = function (node, ctx)
            return {
              { url = ctx:resolve(node.text) .. "?flag=" .. tostring(node.attrs.flag)
                .. "&n=" .. node.attrs.n .. "&keep=" .. node.attrs.keep },
              { text = "t", voice = "v", language = "l" },
              { bogus = true },
            }
          end,
        }, function () end)
      ]]))
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      assert.are.same({
        { url = "http://app.test/voice/a.wav?flag=false&n=7&keep=raw" },
        { text = "t", voice = "v", language = "l" },
      }, prefetches(call)[1])
    end)

    it("caps the list at rcml.MAX_PREFETCH items", function ()
      local body = {}
      for i = 1, rcml.MAX_PREFETCH + 10 do
        body[#body + 1] = ("<Play>p%d.wav</Play>"):format(i)
      end
      local host = host_with({ [APP] = doc(table.concat(body)) }, MEDIA)
      local call = fake_call.new({ script = { play = { "hangup" } } })
      rcml.run(call, host, { url = APP })
      local p = prefetches(call)[1]
      assert.are.equal(rcml.MAX_PREFETCH, #p)
      assert.are.equal("http://app.test/voice/p1.wav", p[1].url)
    end)

    it("never fails the document when prefetch raises", function ()
      local host = host_with({ [APP] = doc("<Play>a.wav</Play>") }, MEDIA)
      local call = fake_call.new({ script = { prefetch = { function ()
        error("cache is down")
      end } } })
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.same({ "prefetch", "play", "hangup" }, call:action_names())
      assert.are.same({}, host.notifications)
      local logged = false
      for _, l in ipairs(host.logs) do
        logged = logged or (l[2]:find("cache is down", 1, true) ~= nil)
      end
      assert.is_true(logged)
    end)

    it("survives a verb whose prefetch function raises", function ()
      local host = host_with({ [APP] = doc("<Odd/><Play>a.wav</Play>") }, MEDIA)
      assert(host:add_plugin("test.odd", [[
        plugin:verb("Odd", { prefetch = function () error("odd") end }, function () end)
      ]]))
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.same({ { url = "http://app.test/voice/a.wav" } }, prefetches(call)[1])
    end)
  end)

  describe("response typing", function ()
    local MEDIA = { "rcml/play.lua", "rcml/say.lua" }

    for _, ct in ipairs({ "audio/wav", "audio/x-wav", "audio/mpeg", "Audio/Wave; rate=8000" }) do
      it(("plays a document URL that answers %s"):format(ct), function ()
        local host = host_with({ [APP] = { body = "RIFF....WAVE", content_type = ct } }, MEDIA)
        local call = fake_call.new()
        assert.are.equal("completed", rcml.run(call, host, { url = APP }))
        assert.are.same({ "prefetch", "play", "hangup" }, call:action_names())
        assert.are.same({ url = APP, loop = 1 }, call.actions[2][2])
        assert.are.same({}, host.notifications)
      end)
    end

    it("says the body of a document that answers text/plain", function ()
      local host = host_with({
        [APP] = { body = "  Hello there.\n", content_type = "text/plain; charset=utf-8" },
      }, MEDIA)
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.same({ "prefetch", "play", "hangup" }, call:action_names())
      assert.are.same({ text = "Hello there.", voice = "man", language = "en", loop = 1 },
        call.actions[2][2])
    end)

    it("trims a text/plain body in linear time, whatever its runs of spaces", function ()
      -- "^%s*(.-)%s*$" retries the end at every space of an inner run:
      -- minutes on this body, as one C call no limit could stop.
      local body = "a" .. (" "):rep(200000) .. "b" .. ("\n"):rep(1000)
      local host = host_with({ [APP] = { body = body, content_type = "text/plain" } }, MEDIA)
      local call = fake_call.new()
      local t0 = os.clock()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.is_true(os.clock() - t0 < 2)
      -- Trimmed (200,002 characters), it reached Say, which refuses a
      -- text that long.
      assert.are.same({ 13520 }, host:codes())
    end)

    it("plays the final URL after HTTP redirects", function ()
      local host = host_with({
        [APP] = { body = "x", content_type = "audio/wav", url = "http://cdn.test/a.wav" },
      }, MEDIA)
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      assert.are.equal("http://cdn.test/a.wav", call.actions[2][2].url)
    end)

    it("works as a Redirect target", function ()
      local host = host_with({
        [APP] = doc("<Redirect>bye.txt</Redirect>"),
        ["http://app.test/voice/bye.txt"] = { body = "Goodbye", content_type = "text/plain" },
      }, MEDIA)
      local call = fake_call.new()
      rcml.run(call, host, { url = APP })
      assert.are.same({ "prefetch", "play", "hangup" }, call:action_names())
      assert.are.equal("Goodbye", call.actions[2][2].text)
    end)

    it("reports an empty text/plain body through Say (13520) and hangs up", function ()
      local host = host_with({ [APP] = { body = " ", content_type = "text/plain" } }, MEDIA)
      local call = fake_call.new()
      assert.are.equal("completed", rcml.run(call, host, { url = APP }))
      assert.are.same({ 13520 }, host:codes())
      assert.are.same({ "hangup" }, call:action_names())
    end)
  end)

  describe("merge_params", function ()
    it("keeps order, lets later lists override, sorts maps", function ()
      local p = rcml.merge_params({ { "A", "1" }, { "B", "2" } }, { B = 3, C = "c", Aa = "x" })
      assert.are.same({ { "A", "1" }, { "B", "3" }, { "Aa", "x" }, { "C", "c" } }, p)
    end)
  end)
end)
