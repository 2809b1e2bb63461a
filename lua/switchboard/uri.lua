-- switchboard.uri: URI references (RFC 3986): split, recompose, and
-- resolve a relative reference against a base URI (section 5.2), as the
-- RCML interpreter needs for <Redirect>next.xml</Redirect> and action
-- URLs. Strings only; no percent-decoding (components stay as written).

local uri = {}

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

-- RFC 3986 section 5.2.4.
function uri.remove_dot_segments(path)
  local input, output = path, {}
  while input ~= "" do
    if input:sub(1, 3) == "../" then
      input = input:sub(4)
    elseif input:sub(1, 2) == "./" then
      input = input:sub(3)
    elseif input:sub(1, 3) == "/./" then
      input = input:sub(3)
    elseif input == "/." then
      input = "/"
    elseif input:sub(1, 4) == "/../" then
      input = input:sub(4)
      output[#output] = nil
    elseif input == "/.." then
      input = "/"
      output[#output] = nil
    elseif input == "." or input == ".." then
      input = ""
    else
      local seg = input:match("^/?[^/]*")
      output[#output + 1] = seg
      input = input:sub(#seg + 1)
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

-- Returns true when s is an absolute http or https URL with a host.
function uri.is_http(s)
  if type(s) ~= "string" then
    return false
  end
  local p = uri.parse(s)
  local scheme = p.scheme and p.scheme:lower()
  return (scheme == "http" or scheme == "https")
    and p.authority ~= nil and p.authority:match("[^@]*$") ~= ""
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
