-- A host for specs (the real one is lua/switchboard/host.lua). It serves
-- scripted documents, records every request and Notification, and runs
-- the REAL plugin manager (switchboard.plugins) with file access through
-- io, so plugin specs load the shipped plugin files exactly as the server
-- does (own sandboxed environment, `plugin` object, hooks, verbs).
--
--   local host = fake_host.new{
--     documents = {
--       ["http://app/start.xml"] = "<Response><Hangup/></Response>",
--       ["http://app/slow"] = { err = "timeout" },
--       ["http://app/gone"] = { status = 404, body = "" },
--       ["http://app/dyn"] = function (req) return { status = 200, body = ... } end,
--     },
--     plugins = { "rcml/hangup.lua", "visual_designer.lua" },
--     options = { visual_designer = { keep_unknown = true } },
--   }
--   host.requests       -- { { url, method, params, ... }, ... }
--   host.notifications  -- { { code, level, message, url, call_sid }, ... }
--   host.logs           -- { { level, message }, ... }

local plugins = require "switchboard.plugins"
local xml = require "helpers.xml"

local fake_host = {}

local host_mt = {}
host_mt.__index = host_mt

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then
    return nil, err
  end
  local text = f:read("a")
  f:close()
  return text
end

function fake_host.new(opts)
  opts = opts or {}
  local h = setmetatable({
    documents = opts.documents or {},
    requests = {},
    notifications = {},
    logs = {},
    sources = {},                       -- in-memory plugin files
  }, host_mt)
  h.manager = plugins.new({
    paths = opts.paths or {},
    options = opts.options or {},
    scan = opts.scan,
    readfile = function(path)
      if h.sources[path] then
        return h.sources[path]
      end
      return read_file(path)
    end,
    log = function(level, msg)
      table.insert(h.logs, { level, msg })
    end,
    globals = opts.globals or {},
  })

  h.fetch = function(req)
    table.insert(h.requests, req)
    local d = h.documents[req.url]
    if type(d) == "function" then
      return d(req)
    end
    if d == nil then
      return { status = 404, body = "not found", content_type = "text/plain", url = req.url }
    end
    if type(d) == "string" then
      return { status = 200, body = d, content_type = "text/xml", url = req.url }
    end
    if d.err then
      return nil, d.err, d.message
    end
    return {
      status = d.status or 200, body = d.body or "",
      content_type = d.content_type == nil and "text/xml" or d.content_type or nil,
      url = d.url or req.url,
    }
  end
  h.parse_rcml = xml.parse
  h.fire = function(event, ...)
    return h.manager:fire(event, ...)
  end
  h.verb = function(name)
    return h.manager:verb(name)
  end
  h.notify = function(call, n)
    n.call_sid = call and call.sid
    table.insert(h.notifications, n)
  end
  h.log = function(level, msg)
    table.insert(h.logs, { level, msg })
  end

  for _, rel in ipairs(opts.plugins or {}) do
    h:load_plugin(rel)
  end
  return h
end

-- Loads plugins/<rel> from the repository (busted runs from its root).
function host_mt:load_plugin(rel)
  local ok, kind, err = self.manager:load_file(plugins.name_of(rel), "plugins/" .. rel)
  assert(ok, ("loading %s: %s: %s"):format(rel, tostring(kind), tostring(err)))
end

-- Loads a plugin from source text under name (for test-only verbs).
function host_mt:add_plugin(name, code)
  local path = "<memory>/" .. name .. ".lua"
  self.sources[path] = code
  return self.manager:load_file(name, path)
end

-- Notification codes in order.
function host_mt:codes()
  local out = {}
  for _, n in ipairs(self.notifications) do
    out[#out + 1] = n.code
  end
  return out
end

-- URLs requested, in order.
function host_mt:urls()
  local out = {}
  for _, r in ipairs(self.requests) do
    out[#out + 1] = r.url
  end
  return out
end

-- Value of a parameter in a recorded request's params.
function fake_host.param(req, name)
  for _, p in ipairs(req.params or {}) do
    if p[1] == name then
      return p[2]
    end
  end
  return nil
end

return fake_host
