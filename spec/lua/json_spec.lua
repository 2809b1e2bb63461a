-- switchboard.json: the encoder plugin routes answer tables with.
local json = require "switchboard.json"

describe("switchboard.json", function ()
  it("encodes scalars", function ()
    assert.are.equal("null", json.encode(nil))
    assert.are.equal("true", json.encode(true))
    assert.are.equal("42", json.encode(42))
    assert.are.equal("0.1", json.encode(0.1))
    assert.are.equal("1e+300", json.encode(1e300))
    assert.are.equal("null", json.encode(0 / 0))
    assert.are.equal('"a\\"b\\\\c\\n\\u0001"', json.encode('a"b\\c\n\1'))
  end)

  it("encodes sequences as arrays and other tables as sorted objects", function ()
    assert.are.equal("[1,2,3]", json.encode({ 1, 2, 3 }))
    assert.are.equal('{"a":1,"b":[true],"c":{}}', json.encode({ c = {}, b = { true }, a = 1 }))
    assert.are.equal('{"1":"x","3":"y"}', json.encode({ [1] = "x", [3] = "y" }))
  end)

  it("refuses values JSON cannot hold, naming where", function ()
    local ok, err = pcall(json.encode, { a = { print } })
    assert.is_false(ok)
    assert.are.equal("json: cannot encode a function at $.a[1]", err)
    local t = {}
    t.self = t
    ok, err = pcall(json.encode, t)
    assert.is_false(ok)
    assert.are.equal("json: cycle at $.self", err)
  end)
end)
