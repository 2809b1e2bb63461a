-- switchboard.uri: RFC 3986 parsing and reference resolution.
local uri = require "switchboard.uri"

describe("switchboard.uri", function ()
  describe("parse", function ()
    it("splits every component", function ()
      local p = uri.parse("http://user@host:8080/a/b?x=1&y=2#frag")
      assert.are.same({
        scheme = "http", authority = "user@host:8080", path = "/a/b",
        query = "x=1&y=2", fragment = "frag",
      }, p)
    end)

    it("keeps absent components nil and the path a string", function ()
      assert.are.same({ path = "next.xml" }, uri.parse("next.xml"))
      assert.are.same({ scheme = "mailto", path = "a@b" }, uri.parse("mailto:a@b"))
      assert.are.same({ authority = "h", path = "" }, uri.parse("//h"))
      assert.are.same({ path = "", query = "" }, uri.parse("?"))
    end)

    it("does not take a colon after a slash for a scheme", function ()
      assert.are.same({ path = "./a:b" }, uri.parse("./a:b"))
    end)

    it("round-trips through build", function ()
      for _, s in ipairs({
        "http://a/b/c/d;p?q", "https://h:1/?#", "//x/y", "g?y#s", "", "/p",
      }) do
        assert.are.equal(s, uri.build(uri.parse(s)))
      end
    end)
  end)

  describe("remove_dot_segments", function ()
    it("follows RFC 3986 5.2.4", function ()
      assert.are.equal("/a/g", uri.remove_dot_segments("/a/b/c/./../../g"))
      assert.are.equal("mid/6", uri.remove_dot_segments("mid/content=5/../6"))
      assert.are.equal("/", uri.remove_dot_segments("/.."))
      assert.are.equal("", uri.remove_dot_segments("../.."))
    end)

    -- Issue 23: taking the rest of the path as a new string at every
    -- segment was quadratic (seconds for a long path a document chose).
    it("is linear in the length of the path", function ()
      local path = ("/a/."):rep(250000) .. ("/.."):rep(1000)
      local t0 = os.clock()
      local out = uri.remove_dot_segments(path)
      assert.is_true(os.clock() - t0 < 2)
      assert.are.equal(("/a"):rep(249000) .. "/", out)
    end)
  end)

  describe("resolve", function ()
    local base = "http://a/b/c/d;p?q"

    -- RFC 3986 5.4.1 (normal) and 5.4.2 (abnormal) examples.
    local examples = {
      { "g:h", "g:h" }, { "g", "http://a/b/c/g" }, { "./g", "http://a/b/c/g" },
      { "g/", "http://a/b/c/g/" }, { "/g", "http://a/g" }, { "//g", "http://g" },
      { "?y", "http://a/b/c/d;p?y" }, { "g?y", "http://a/b/c/g?y" },
      { "#s", "http://a/b/c/d;p?q#s" }, { "g#s", "http://a/b/c/g#s" },
      { "g?y#s", "http://a/b/c/g?y#s" }, { ";x", "http://a/b/c/;x" },
      { "g;x", "http://a/b/c/g;x" }, { "g;x?y#s", "http://a/b/c/g;x?y#s" },
      { "", "http://a/b/c/d;p?q" }, { ".", "http://a/b/c/" },
      { "./", "http://a/b/c/" }, { "..", "http://a/b/" }, { "../", "http://a/b/" },
      { "../g", "http://a/b/g" }, { "../..", "http://a/" }, { "../../", "http://a/" },
      { "../../g", "http://a/g" },
      { "../../../g", "http://a/g" }, { "../../../../g", "http://a/g" },
      { "/./g", "http://a/g" }, { "/../g", "http://a/g" }, { "g.", "http://a/b/c/g." },
      { ".g", "http://a/b/c/.g" }, { "g..", "http://a/b/c/g.." },
      { "..g", "http://a/b/c/..g" }, { "./../g", "http://a/b/g" },
      { "./g/.", "http://a/b/c/g/" }, { "g/./h", "http://a/b/c/g/h" },
      { "g/../h", "http://a/b/c/h" }, { "g;x=1/./y", "http://a/b/c/g;x=1/y" },
      { "g;x=1/../y", "http://a/b/c/y" }, { "g?y/./x", "http://a/b/c/g?y/./x" },
      { "g?y/../x", "http://a/b/c/g?y/../x" }, { "g#s/./x", "http://a/b/c/g#s/./x" },
      { "g#s/../x", "http://a/b/c/g#s/../x" }, { "http:g", "http:g" },
    }
    for _, e in ipairs(examples) do
      it(("resolves '%s'"):format(e[1]), function ()
        assert.are.equal(e[2], uri.resolve(base, e[1]))
      end)
    end

    it("resolves an RCML redirect next to the current document", function ()
      assert.are.equal("http://127.0.0.1:8090/app/next.xml",
        uri.resolve("http://127.0.0.1:8090/app/start.xml?x=1", "next.xml"))
      assert.are.equal("http://127.0.0.1:8090/menu?d=1",
        uri.resolve("http://127.0.0.1:8090/app/start.xml", "/menu?d=1"))
    end)

    it("merges against an empty base path with a slash", function ()
      assert.are.equal("http://h/g", uri.resolve("http://h", "g"))
    end)

    it("refuses a relative base", function ()
      local r, err = uri.resolve("a/b", "c")
      assert.is_nil(r)
      assert.matches("not absolute", err)
    end)

    it("refuses a reference longer than uri.MAX_LENGTH", function ()
      local r, err = uri.resolve("http://a/", ("x/"):rep(uri.MAX_LENGTH))
      assert.is_nil(r)
      assert.matches("more than", err)
    end)
  end)

  describe("is_http", function ()
    it("accepts absolute http and https URLs with a host", function ()
      assert.is_true(uri.is_http("http://a/b"))
      assert.is_true(uri.is_http("HTTPS://a:443"))
    end)

    it("rejects everything else", function ()
      assert.is_false(uri.is_http("ftp://a/b"))
      assert.is_false(uri.is_http("http:/a"))
      assert.is_false(uri.is_http("http://"))
      assert.is_false(uri.is_http("next.xml"))
      assert.is_false(uri.is_http(nil))
      assert.is_false(uri.is_http("http://user@"))
      assert.is_true(uri.is_http("http://a@b@host"))
    end)

    -- Issue 23: "[^@]*$" tried every start in an authority ending in "@"
    -- (quadratic: seconds at 40,000 characters).
    it("is linear and bounded in the length of the URL", function ()
      local t0 = os.clock()
      assert.is_false(uri.is_http("http://" .. ("a"):rep(uri.MAX_LENGTH - 8) .. "@"))
      assert.is_true(uri.is_http("http://" .. ("a@"):rep(4000) .. "h"))
      assert.is_false(uri.is_http("http://" .. ("a"):rep(1000000) .. "@"))
      assert.is_false(uri.is_http("http://h/" .. ("a"):rep(uri.MAX_LENGTH)))
      assert.is_true(os.clock() - t0 < 2)
    end)
  end)

  it("strips fragments", function ()
    assert.are.equal("http://a/b?c", uri.strip_fragment("http://a/b?c#d"))
    assert.are.equal("http://a/b", uri.strip_fragment("http://a/b"))
  end)
end)
