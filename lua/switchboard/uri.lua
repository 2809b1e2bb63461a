-- switchboard.uri: URI references (RFC 3986): split, recompose, and
-- resolve a relative reference against a base URI (section 5.2), as the
-- RCML interpreter needs for <Redirect>next.xml</Redirect> and action
-- URLs. Strings only; no percent-decoding (components stay as written).

local uri = {}

-- Longest URI resolved or checked (characters). Every function here is
-- linear in its input; this bounds the input too, since a document
-- controls it.
uri.MAX_LENGTH = 8192

-- Splits s into { scheme, authority, path, query, fragment } (RFC 3986
-- appendix B). Absent components are nil; path is always a string.
function uri.parse(s)
  if type(s) ~= "string" then
    error("uri.parse: string expected", 2)
  end
  local rest, query, fragment = s, nil, nil
  local i = rest:find("#", 1, true)
  if i then
    fragment = rest:sub(i + 1)
    rest = rest:sub(1, i - 1)
  end
  i = rest:find("?", 1, true)
  if i then
    query = rest:sub(i + 1)
    rest = rest:sub(1, i - 1)
  end
  local scheme = rest:match("^(%a[%w+.%-]*):")
  if scheme then
    rest = rest:sub(#scheme + 2)
  end
  local authority
  if rest:sub(1, 2) == "//" then
    local j = rest:find("/", 3, true)
    if j then
      authority = rest:sub(3, j - 1)
      rest = rest:sub(j)
    else
      authority = rest:sub(3)
      rest = ""
    end
  end
  return {
    scheme = scheme, authority = authority, path = rest, query = query,
    fragment = fragment,
  }
end

-- Recomposes parts (RFC 3986 section 5.3).
function uri.build(t)
  local out = {}
  if t.scheme then
    out[#out + 1] = t.scheme .. ":"
  end
  if t.authority then
    out[#out + 1] = "//" .. t.authority
  end
  out[#out + 1] = t.path or ""
  if t.query then
    out[#out + 1] = "?" .. t.query
  end
  if t.fragment then
    out[#out + 1] = "#" .. t.fragment
  end
  return table.concat(out)
end

-- RFC 3986 section 5.2.4, in one pass over path: the input buffer of the
-- RFC is path from index i on (never copied), so the time is linear in
-- the length (taking sub-strings of the rest at each step was quadratic).
function uri.remove_dot_segments(path)
  local output, n = {}, 0
  local i, len = 1, #path
  while i <= len do
    local c1, c2, c3 = path:byte(i, i + 2)
    local rest = len - i + 1                      -- chars left
    if c1 == 46 and c2 == 46 and c3 == 47 then    -- A: "../"
      i = i + 3
    elseif c1 == 46 and c2 == 47 then             -- A: "./"
      i = i + 2
    elseif c1 == 47 and c2 == 46 and c3 == 47 then  -- B: "/./" -> "/"
      i = i + 2
    elseif c1 == 47 and c2 == 46 and rest == 2 then -- B: "/." -> "/"
      n = n + 1
      output[n] = "/"
      break
    elseif c1 == 47 and c2 == 46 and c3 == 46
      and (rest == 3 or path:byte(i + 3) == 47) then  -- C: "/../", "/.."
      if n > 0 then
        output[n] = nil
        n = n - 1
      end
      if rest == 3 then
        n = n + 1
        output[n] = "/"
        break
      end
      i = i + 3
    elseif (c1 == 46 and rest == 1)
      or (c1 == 46 and c2 == 46 and rest == 2) then  -- D: "." or ".."
      break
    else                                          -- E: move one segment
      local j = path:find("/", c1 == 47 and i + 1 or i, true) or len + 1
      n = n + 1
      output[n] = path:sub(i, j - 1)
      i = j
    end
  end
  return table.concat(output)
end

local function merge(base, ref_path)
  if base.authority and base.path == "" then
    return "/" .. ref_path
  end
  local dir = base.path:match("^(.*/)") or ""
  return dir .. ref_path
end

-- Resolves ref against base (RFC 3986 section 5.2.2, strict). base must be
-- an absolute URI. Returns the target URI string, or nil and a message.
function uri.resolve(base, ref)
  if #base > uri.MAX_LENGTH or #ref > uri.MAX_LENGTH then
    return nil, ("URI of more than %d characters"):format(uri.MAX_LENGTH)
  end
  local b = uri.parse(base)
  if not b.scheme then
    return nil, ("base URI '%s' is not absolute"):format(base)
  end
  local r = uri.parse(ref)
  local t = {}
  if r.scheme then
    t.scheme, t.authority = r.scheme, r.authority
    t.path, t.query = uri.remove_dot_segments(r.path), r.query
  else
    if r.authority then
      t.authority = r.authority
      t.path, t.query = uri.remove_dot_segments(r.path), r.query
    else
      if r.path == "" then
        t.path = b.path
        t.query = r.query or b.query
      else
        if r.path:sub(1, 1) == "/" then
          t.path = uri.remove_dot_segments(r.path)
        else
          t.path = uri.remove_dot_segments(merge(b, r.path))
        end
        t.query = r.query
      end
      t.authority = b.authority
    end
    t.scheme = b.scheme
  end
  t.fragment = r.fragment
  return uri.build(t)
end

-- Returns true when s is an absolute http or https URL with a host (and
-- at most uri.MAX_LENGTH characters).
function uri.is_http(s)
  if type(s) ~= "string" or #s > uri.MAX_LENGTH then
    return false
  end
  local p = uri.parse(s)
  local scheme = p.scheme and p.scheme:lower()
  if (scheme ~= "http" and scheme ~= "https") or p.authority == nil then
    return false
  end
  -- The host is what follows the last "@". An anchored match tries one
  -- start (the unanchored "[^@]*$" tried every start: quadratic).
  local at = p.authority:match("^.*()@")
  return (at and p.authority:sub(at + 1) or p.authority) ~= ""
end

-- Returns s without its fragment ("#..."), which is never sent.
function uri.strip_fragment(s)
  local i = s:find("#", 1, true)
  if i then
    return s:sub(1, i - 1)
  end
  return s
end

return uri
