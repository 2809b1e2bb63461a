-- A small XML reader for specs: it stands in for the C parser
-- (core.rcml_parse) and returns the same tree shape,
-- { name, attrs, text, line, children }, or nil, reason, message with the
-- C parser's reasons ("syntax", "invalid-rcml", "forbidden").
-- It handles what test documents use: the XML declaration, comments,
-- CDATA, attributes in either quote, the five predefined entities and
-- character references. It is test scaffolding, not a conforming parser.

local xml = {}

local ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }

local function decode(s)
  local bad
  local out = s:gsub("&(#?)([%w]+);", function (hash, name)
    if hash == "#" then
      local n = name:match("^x(%x+)$") and tonumber(name:sub(2), 16) or tonumber(name)
      if not n then
        bad = name
        return ""
      end
      return utf8.char(n)
    end
    local v = ENTITIES[name]
    if not v then
      bad = name
      return ""
    end
    return v
  end)
  if bad then
    return nil, "undefined entity " .. bad
  end
  if s:gsub("&#?[%w]+;", ""):find("&", 1, true) then
    return nil, "stray &"
  end
  return out
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

function xml.parse(text)
  if type(text) ~= "string" or text == "" then
    return nil, "syntax", "empty document"
  end
  if text:find("<!ENTITY", 1, true) then
    return nil, "forbidden", "entity declarations are not allowed"
  end
  local pos, line = 1, 1
  local stack, root = {}, nil
  local function fail(msg)
    return nil, "syntax", ("line %d: %s"):format(line, msg)
  end
  local function advance(to)
    local chunk = text:sub(pos, to)
    local _, n = chunk:gsub("\n", "")
    line = line + n
    pos = to + 1
  end
  while pos <= #text do
    local lt = text:find("<", pos, true)
    local chunk = text:sub(pos, (lt or #text + 1) - 1)
    if chunk ~= "" then
      if #stack == 0 then
        if chunk:find("%S") then
          return fail("text outside the root element")
        end
      else
        local t, err = decode(chunk)
        if not t then
          return fail(err)
        end
        table.insert(stack[#stack].texts, t)
      end
      advance((lt or #text + 1) - 1)
    end
    if not lt then
      break
    end
    if text:sub(lt, lt + 3) == "<!--" then
      local e = text:find("-->", lt + 4, true)
      if not e then
        return fail("unterminated comment")
      end
      advance(e + 2)
    elseif text:sub(lt, lt + 8) == "<![CDATA[" then
      local e = text:find("]]>", lt + 9, true)
      if not e or #stack == 0 then
        return fail("bad CDATA section")
      end
      table.insert(stack[#stack].texts, text:sub(lt + 9, e - 1))
      advance(e + 2)
    elseif text:sub(lt, lt + 1) == "<?" then
      local e = text:find("?>", lt + 2, true)
      if not e then
        return fail("unterminated processing instruction")
      end
      advance(e + 1)
    elseif text:sub(lt, lt + 1) == "<!" then
      local e = text:find(">", lt + 2, true)
      if not e then
        return fail("unterminated declaration")
      end
      advance(e)
    elseif text:sub(lt, lt + 1) == "</" then
      local name, e = text:match("^</([%a_][%w_.:%-]*)%s*>()", lt)
      if not name then
        return fail("bad end tag")
      end
      local top = table.remove(stack)
      if not top or top.name ~= name then
        return fail("mismatched end tag </" .. name .. ">")
      end
      top.node.text = trim(table.concat(top.texts))
      advance(e - 1)
    else
      local name, after = text:match("^<([%a_][%w_.:%-]*)()", lt)
      if not name then
        return fail("bad start tag")
      end
      local node = { name = name, attrs = {}, children = {}, line = line, text = "" }
      local p = after
      local closed = false
      while true do
        local ws, p2 = text:match("^(%s*)()", p)
        p = p2
        if text:sub(p, p + 1) == "/>" then
          closed = true
          p = p + 2
          break
        elseif text:sub(p, p) == ">" then
          p = p + 1
          break
        end
        if ws == "" then
          return fail("bad attribute in <" .. name .. ">")
        end
        local an, q, p3 = text:match("^([%a_][%w_.:%-]*)%s*=%s*(['\"])()", p)
        if not an then
          return fail("bad attribute in <" .. name .. ">")
        end
        local close = text:find(q, p3, true)
        if not close then
          return fail("unterminated attribute value")
        end
        local v, err = decode(text:sub(p3, close - 1))
        if not v then
          return fail(err)
        end
        node.attrs[an] = v
        p = close + 1
      end
      if #stack == 0 then
        if root then
          return fail("more than one root element")
        end
        root = node
      else
        table.insert(stack[#stack].node.children, node)
      end
      if not closed then
        table.insert(stack, { name = name, node = node, texts = {} })
      end
      advance(p - 1)
    end
  end
  if #stack > 0 then
    return fail("unclosed <" .. stack[#stack].name .. ">")
  end
  if not root then
    return fail("no root element")
  end
  if root.name ~= "Response" then
    return nil, "invalid-rcml", ("root element is <%s>, expected <Response>"):format(root.name)
  end
  return root
end

return xml
