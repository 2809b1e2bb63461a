-- plugins/visual_designer.lua: RVD variables in fetched RCML.
local fake_call = require "helpers.fake_call"
local fake_host = require "helpers.fake_host"
local rcml = require "switchboard.rcml"

local function substitute(text, params, options)
  local host = fake_host.new({
    plugins = { "visual_designer.lua" },
    options = options and { visual_designer = options } or nil,
  })
  local ev = { text = text, params = params }
  local r = host.manager:fire("rcml.document", ev)
  assert.is_nil(r)                      -- composable: it sets ev.text
  return ev.text
end

local PARAMS = {
  { "CallSid", "ID1-CA1" }, { "AccountSid", "AC1" }, { "From", "1234" },
  { "To", "+15550100" }, { "CallStatus", "ringing" }, { "ApiVersion", "2012-04-24" },
  { "Direction", "inbound" }, { "CallerName", "null" }, { "ForwardedFrom", "null" },
  { "CallTimestamp", "2024-01-01T00:00:00Z" }, { "InstanceId", "ID1" },
  { "SipHeader_X-My-Header", "hdr" }, { "SipHeader_Diversion", "<sip:1@x>" },
}

describe("plugins/visual_designer.lua", function ()
  it("turns builtin parameters into $core_<Name>", function ()
    assert.are.equal("1234 +15550100 ringing inbound AC1 ID1-CA1 ID1 2012-04-24 null null 2024-01-01T00:00:00Z",
      substitute("$core_From $core_To $core_CallStatus $core_Direction $core_AccountSid "
        .. "$core_CallSid $core_InstanceId $core_ApiVersion $core_CallerName "
        .. "$core_ForwardedFrom $core_CallTimestamp", PARAMS))
  end)

  it("has the REFER parameters", function ()
    local p = { { "ReferTarget", "alice" }, { "Transferor", "+131313" }, { "Transferee", "bob" } }
    assert.are.equal("<Dial><Number>alice</Number></Dial> +131313 bob",
      substitute("<Dial><Number>$core_ReferTarget</Number></Dial> $core_Transferor $core_Transferee", p))
  end)

  it("maps SipHeader_X-My-Header to $core_x_my_header", function ()
    assert.are.equal("hdr", substitute("$core_x_my_header", PARAMS))
    assert.are.equal("&lt;sip:1@x&gt;", substitute("$core_diversion", PARAMS))
  end)

  it("maps DialSipHeader_ the same way", function ()
    assert.are.equal("v", substitute("$core_x_dial_h", { { "DialSipHeader_X-Dial.H", "v" } }))
  end)

  it("keeps sticky_ and module_ names and looks them up for bare names", function ()
    local p = { { "sticky_lang", "fr" }, { "module_step", "3" }, { "plain", "p" } }
    assert.are.equal("fr fr 3 3 p", substitute("$sticky_lang $lang $module_step $step $plain", p))
  end)

  it("prefers name, then module_name, then sticky_name", function ()
    local p = { { "x", "own" }, { "module_x", "mod" }, { "sticky_x", "st" }, { "module_y", "mod" }, { "sticky_y", "st" } }
    assert.are.equal("own mod", substitute("$x $y", p))
  end)

  it("replaces unknown variables with nothing", function ()
    assert.are.equal("a  b", substitute("a $core_Nope b", PARAMS))
  end)

  it("keeps unknown variables with keep_unknown = true", function ()
    assert.are.equal("a $core_Nope 1234", substitute("a $core_Nope $core_From", PARAMS,
      { keep_unknown = true }))
  end)

  it("leaves a $ not followed by a letter alone", function ()
    assert.are.equal("costs $5 and $ and $_x", substitute("costs $5 and $ and $_x", PARAMS))
  end)

  it("escapes values for XML", function ()
    assert.are.equal("A &amp; B &lt;c&gt; &quot;d&quot; &apos;e&apos;",
      substitute("$v", { { "v", "A & B <c> \"d\" 'e'" } }))
  end)

  it("accepts parameters as a map", function ()
    assert.are.equal("1234", substitute("$core_From", { From = "1234" }))
  end)

  it("does nothing to a document without $", function ()
    assert.are.equal("<Response/>", substitute("<Response/>", PARAMS))
  end)

  it("is a hook a deployment can disable", function ()
    local host = fake_host.new({ options = { visual_designer = { enabled = false } } })
    host:load_plugin("visual_designer.lua")
    local ev = { text = "$core_From", params = PARAMS }
    host.manager:fire("rcml.document", ev)
    assert.are.equal("$core_From", ev.text)
  end)

  it("substitutes in a real run, with the parameters that were sent", function ()
    local url = "http://app.test/rvd"
    local host = fake_host.new({
      plugins = { "visual_designer.lua", "rcml/pause.lua" },
      documents = { [url] = "<Response><Pause length=\"$core_x_delay\"/></Response>" },
    })
    local call = fake_call.new({ headers = { { "X-Delay", "4" } } })
    rcml.run(call, host, { url = url })
    assert.are.equal(4, call.actions[1][2])
  end)
end)
