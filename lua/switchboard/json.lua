-- switchboard.json: encodes Lua values as JSON text, for plugin routes
-- that answer with a table. Objects get their keys sorted, so the same
-- table always gives the same text. A table whose keys are exactly 1..n
-- (n > 0) is an array; any other table is an object with its keys
-- turned into strings. nil, NaN and infinities are null; functions,
-- userdata, threads and cycles raise an error naming the path.

local json = {}

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function is_array(t)
  local n = #t
  if n == 0 then
    return false
  end
  local count = 0
  for _ in pairs(t) do
    count = count + 1
  end
  return count == n
end

local encode_value

local function encode_table(t, out, seen, path)
  if seen[t] then
    error("json: cycle at " .. path, 0)
  end
  seen[t] = true
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then
        out[#out + 1] = ","
      end
      encode_value(t[i], out, seen, path .. "[" .. i .. "]")
    end
    out[#out + 1] = "]"
  else
    local keys = {}
    for k in pairs(t) do
      keys[#keys + 1] = tostring(k)
    end
    table.sort(keys)
    local lookup = {}
    for k, v in pairs(t) do
      lookup[tostring(k)] = v
    end
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then
        out[#out + 1] = ","
      end
      out[#out + 1] = quote(k)
      out[#out + 1] = ":"
      encode_value(lookup[k], out, seen, path .. "." .. k)
    end
    out[#out + 1] = "}"
  end
  seen[t] = nil
end

encode_value = function(v, out, seen, path)
  local ty = type(v)
  if v == nil then
    out[#out + 1] = "null"
  elseif ty == "boolean" then
    out[#out + 1] = tostring(v)
  elseif ty == "number" then
    if math.type(v) == "integer" then
      out[#out + 1] = ("%d"):format(v)
    elseif v ~= v or v == math.huge or v == -math.huge then
      out[#out + 1] = "null"
    else
      local text = ("%.14g"):format(v)
      if tonumber(text) ~= v then
        text = ("%.17g"):format(v)
      end
      out[#out + 1] = text
    end
  elseif ty == "string" then
    out[#out + 1] = quote(v)
  elseif ty == "table" then
    encode_table(v, out, seen, path)
  else
    error(("json: cannot encode a %s at %s"):format(ty, path), 0)
  end
end

-- json.encode(v): the JSON text of v; raises on values JSON cannot hold.
function json.encode(v)
  local out = {}
  encode_value(v, out, {}, "$")
  return table.concat(out)
end

return json
