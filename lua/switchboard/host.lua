-- switchboard.host: the server's side of the host API, wired from the C
-- module "switchboard.core" (core/lua). The C runtime calls:
--
--   host.init(options)       once, with the config's plugins.options
--   host.load_plugins()      -> number failed, first message
--   host.reload(name | nil)  -> true | nil, kind, message
--   host.run_rcml(call, app) the body of an RCML session
--   host.run_refer(ev)       the body of a REFER session (the "refer" hooks)
--
-- Specs never load this module: they build their own host
-- (spec/helpers/fake_host.lua) and plugin manager.

local core = require "switchboard.core"
local plugins = require "switchboard.plugins"
local rcml = require "switchboard.rcml"

local host = {}

local the_host

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
    },
  })
  plugins.default = m
  the_host = {
    fetch = core.http_request,
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

return host
