-- switchboard.host: the server's side of the host API, wired from the C
-- module "switchboard.core" (core/lua). The C runtime calls:
--
--   host.init(options)       once, with the config's plugins.options
--   host.load_plugins()      -> number failed, first message
--   host.reload(name | nil)  -> true | nil, kind, message
--   host.run_rcml(call, app) the body of an RCML session
--   host.run_refer(ev)       the body of a REFER session (the "refer" hooks)
--   host.serve_route(req)    the body of a plugin route's session
--
-- Specs never load this module: they build their own host
-- (spec/helpers/fake_host.lua) and plugin manager.

local core = require "switchboard.core"
local json = require "switchboard.json"
local plugins = require "switchboard.plugins"
local rcml = require "switchboard.rcml"

local host = {}

local the_host

-- A plugin global that calls switchboard.messaging's name when the
-- messaging module is there, else returns nil, "state".
local function messaging(name)
  return function(...)
    local m = package.loaded["switchboard.messaging"]
    if m == nil then
      return nil, "state", "messaging is not available"
    end
    return m[name](...)
  end
end

function host.init(options)
  local m = plugins.new({
    paths = core.plugin_paths,
    options = options or {},
    scan = core.scan,
    readfile = core.readfile,
    log = core.log,
    globals = {
      sleep = core.sleep,
      http = { request = core.http_request },
      -- Messaging (core/lua/lua_api_msg.c), looked up when called: the
      -- module is registered after the plugins have loaded.
      sms = { send = messaging("sms_send") },
      email = { send = messaging("email_send") },
    },
  })
  plugins.default = m
  the_host = {
    fetch = core.rcml_fetch or core.http_request,   -- timed for /metrics
    parse_rcml = core.rcml_parse,
    notify = function(call, n)
      if call ~= nil then
        n.call_sid = call.sid
        n.account_sid = call.account_sid
      end
      core.notify(n)
    end,
    fire = function(event, ...)
      return m:fire(event, ...)
    end,
    verb = function(name)
      return m:verb(name)
    end,
    log = core.log,
  }
end

-- The host table rcml.run uses (nil before init).
function host.get()
  return the_host
end

function host.load_plugins()
  return plugins.default:load_all()
end

function host.discover()
  return plugins.default:discover()
end

function host.load_one(name, path)
  local m = plugins.default
  local ok, kind, err = m:load_file(name, path)
  if not ok then
    local msg = ("plugin %s: %s error: %s"):format(name, kind, tostring(err))
    m.log("error", msg)
    return nil, kind, msg
  end
  return true
end

function host.unload_missing(names)
  local keep = {}
  for _, n in ipairs(names) do
    keep[n] = true
  end
  local m = plugins.default
  for name in pairs(m.loaded) do
    if not keep[name] then
      m:unload(name)
      m.log("info", ("plugin %s: unloaded (file gone)"):format(name))
    end
  end
end

function host.reload(name)
  return plugins.default:reload(name)
end

function host.run_rcml(call, app)
  return rcml.run(call, the_host, app)
end

-- The body of a REFER session (core/lua/lua_api_refer.c): the "refer"
-- hooks run in priority order (user handlers first, plugins/refer.lua
-- last) until one returns a value; a REFER nobody answered is refused.
function host.run_refer(ev)
  local ok, err = pcall(plugins.default.fire, plugins.default, "refer", ev)
  if not ok then
    core.log("error", "refer handlers failed: " .. tostring(err))
  end
  if not ev.answered then
    ev:reject(603, "No handler took the transfer")
  end
end

-- The body of a conference event's session (core/lua/lua_api_conf.c):
-- the "conference.<event>" hooks (join, leave, start, end, mute) run in
-- priority order until one returns a value. ev: { event, conference_sid,
-- name, account_sid, call, members, muted }.
function host.run_conference(ev)
  local ok, err = pcall(plugins.default.fire, plugins.default,
    "conference." .. ev.event, ev)
  if not ok then
    core.log("error", "conference handlers failed: " .. tostring(err))
  end
end

-- Content-Type from a handler's headers (any case), or nil.
local function content_type_of(headers)
  for k, v in pairs(headers) do
    if type(k) == "string" and k:lower() == "content-type" then
      return v
    end
  end
end

-- Turns what a route handler returned into status, body, content type
-- and headers (see docs/plugin-api.md, plugin:route), or raises.
local function shape(status, body, headers)
  if status == nil then
    return 204, nil, nil, {}
  elseif type(status) == "table" then
    return 200, json.encode(status), "application/json", {}
  elseif type(status) == "string" then
    return 200, status, "text/plain; charset=utf-8", {}
  elseif math.type(status) ~= "integer" or status < 200 or status > 599 then
    error("the status must be an integer from 200 to 599, got " .. tostring(status), 0)
  end
  if headers ~= nil and type(headers) ~= "table" then
    error("the headers must be a table", 0)
  end
  headers = headers or {}
  local ctype = content_type_of(headers)
  if type(body) == "table" then
    return status, json.encode(body), ctype or "application/json", headers
  elseif body == nil then
    return status, nil, nil, headers
  elseif type(body) == "string" then
    return status, body, ctype or "text/plain; charset=utf-8", headers
  end
  error("the body must be a string or a table, got a " .. type(body), 0)
end

-- The body of a plugin route's session (core/lua/lua_api_route.c).
-- req = { method, path, account_sid, caller_sid, format, query, form,
-- headers, body }. Returns status, body, content type, headers, and true
-- as a fifth value when the answer is an error in Restcomm's format (body
-- is then its message). A handler that raises gets a 500; the error is
-- logged with the plugin's name.
function host.serve_route(req)
  local r, caps = plugins.default:match_route(req.method, req.path)
  if r == nil then
    if #caps > 0 then
      return 405, ("Method %s is not allowed here"):format(req.method), nil,
        { Allow = table.concat(caps, ",") }, true
    end
    return 404, "The requested resource was not found", nil, nil, true
  end
  req.params = caps
  local ok, status, body, headers = xpcall(r.fn, debug.traceback, req)
  local ctype
  if ok then
    ok, status, body, ctype, headers = pcall(shape, status, body, headers)
    if ok then
      return status, body, ctype, headers
    end
  end
  core.log("error", ("plugin %s: route %s failed: %s"):format(r.plugin, r.key, tostring(status)))
  return 500, "The plugin failed", nil, nil, true
end

return host
