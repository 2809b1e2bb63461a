-- switchboard.plugins: the plugin manager.
--
-- A plugin is one *.lua file under one of the plugin paths. Its name is
-- the path relative to that folder without ".lua", with "/" turned into
-- "." ("rcml/pause.lua" is "rcml.pause"); when two paths hold the same
-- name, the first path wins, so an operator replaces a shipped plugin by
-- putting a folder of their own first. Each plugin runs in its own
-- sandboxed environment (switchboard.sandbox) with a `plugin` object:
--
--   plugin.name, plugin.path, plugin.options
--   plugin:log(level, fmt, ...)
--   plugin:verb(name, spec, fn)       an RCML verb
--   plugin:hook(event, fn, priority)  an event handler
--   plugin:route(method, path, fn)    a REST route (served later)
--   plugin:option(name, default) and option_boolean / option_number /
--   option_integer / option_string
--
-- Registrations are recorded per plugin. Loading runs the new code with
-- its registrations held aside; only when it ran without error are the old
-- version's registrations removed and the new ones put in place, so a
-- plugin that fails to load (or reload) leaves the old one running.
-- Hooks run by priority (higher first, then in registration order); the
-- first handler that returns a non-nil value ends the chain and its values
-- are returned. A handler that raises is logged and skipped.
--
-- The manager is a plain object so specs can build one with fake file
-- access; the server's one is built by switchboard.host.

local sandbox = require "switchboard.sandbox"

local plugins = {}

local manager = {}
manager.__index = manager

local LEVELS = {
  error = true, warn = true, warning = true, info = true, debug = true,
  trace = true,
}

local function traceback(err)
  return debug.traceback(tostring(err), 2)
end

-- "rcml/pause.lua" -> "rcml.pause"
function plugins.name_of(relpath)
  return (relpath:gsub("%.lua$", ""):gsub("/", "."))
end

-- plugins.options["rcml.pause"], else plugins.options.rcml.pause, else {}.
local function options_for(all, name)
  local o = all[name]
  if o == nil then
    o = all
    for part in name:gmatch("[^.]+") do
      if type(o) ~= "table" then
        o = nil
        break
      end
      o = o[part]
    end
  end
  if type(o) ~= "table" then
    return {}
  end
  return o
end

--------------------------------------------------------------------------
-- The plugin object
--------------------------------------------------------------------------

-- plugin object -> its record (weak keys: old versions can be collected)
local records = setmetatable({}, { __mode = "k" })

local api = {}

local function record_of(self, method)
  local rec = records[self]
  if rec == nil then
    error(("plugin:%s: call it as plugin:%s(...)"):format(method, method), 3)
  end
  return rec
end

-- plugin:log(level, fmt, ...)
-- Context: anywhere. Logs "[name] message" at level ("error", "warn",
-- "info", "debug"), with the call SID when a call's session runs it.
function api:log(level, fmt, ...)
  local rec = record_of(self, "log")
  if not LEVELS[level] then
    error(("plugin:log: unknown level '%s'"):format(tostring(level)), 2)
  end
  local msg = select("#", ...) > 0 and fmt:format(...) or tostring(fmt)
  rec.manager.log(level, ("[%s] %s"):format(rec.name, msg))
end

-- plugin:verb(name, spec, fn)
-- Context: load time (or later). Registers the RCML verb `name`; fn is
-- called as fn(call, node, ctx) by the interpreter (see docs/plugin-api.md
-- for spec and the return protocol). A verb another plugin provides is an
-- error.
function api:verb(name, spec, fn)
  local rec = record_of(self, "verb")
  if fn == nil and type(spec) == "function" then
    spec, fn = {}, spec
  end
  if type(name) ~= "string" or not name:match("^[%a][%w_:%-]*$") then
    error("plugin:verb: name must be a verb name such as \"Pause\"", 2)
  end
  if type(spec) ~= "table" then
    error("plugin:verb: spec must be a table", 2)
  end
  if type(fn) ~= "function" then
    error("plugin:verb: fn must be a function", 2)
  end
  local m = rec.manager
  local other = m.verbs[name]
  if other and other.plugin ~= rec.name then
    error(("plugin:verb: verb %s is already provided by plugin %s")
      :format(name, other.plugin), 2)
  end
  if rec.regs.verbs[name] then
    error(("plugin:verb: verb %s registered twice"):format(name), 2)
  end
  local entry = { name = name, spec = spec, fn = fn, plugin = rec.name }
  rec.regs.verbs[name] = entry
  if rec.committed then
    m.verbs[name] = entry
  end
end

local function insert_hook(m, h)
  local list = m.hooks[h.event]
  if list == nil then
    list = {}
    m.hooks[h.event] = list
  end
  local pos = #list + 1
  for i, other in ipairs(list) do
    if h.priority > other.priority
      or (h.priority == other.priority and h.seq < other.seq) then
      pos = i
      break
    end
  end
  table.insert(list, pos, h)
end

local function remove_hook(m, h)
  h.active = false
  local list = m.hooks[h.event]
  if list == nil then
    return
  end
  for i, other in ipairs(list) do
    if other == h then
      table.remove(list, i)
      break
    end
  end
  if #list == 0 then
    m.hooks[h.event] = nil
  end
end

-- plugin:hook(event, fn, priority)
-- Context: load time (or later). Adds fn to the event's chain. priority:
-- a number, default 0; higher runs first. Returns nothing.
function api:hook(event, fn, priority)
  local rec = record_of(self, "hook")
  if type(event) ~= "string" or event == "" then
    error("plugin:hook: event must be a string such as \"rcml.document\"", 2)
  end
  if type(fn) ~= "function" then
    error("plugin:hook: fn must be a function", 2)
  end
  if priority ~= nil and type(priority) ~= "number" then
    error("plugin:hook: priority must be a number", 2)
  end
  local m = rec.manager
  m.seq = m.seq + 1
  local h = {
    event = event, fn = fn, priority = priority or 0, seq = m.seq,
    plugin = rec.name, active = true,
  }
  table.insert(rec.regs.hooks, h)
  if rec.committed then
    insert_hook(m, h)
  end
end

-- Splits "/a/{id}/c" into { "a", "{id}", "c" } (empty segments dropped).
local function path_segments(path)
  local out = {}
  for seg in path:gmatch("[^/]+") do
    out[#out + 1] = seg
  end
  return out
end

-- plugin:route(method, path, fn)
-- Context: load time. Registers a REST route, served under
-- /restcomm/2012-04-24/Accounts/{AccountSid}/Plugins<path> ("GET",
-- "/queue/{id}"); fn(req) is called by host.serve_route. Returns nothing.
function api:route(method, path, fn)
  local rec = record_of(self, "route")
  if type(method) ~= "string" or not method:match("^%u+$") and method ~= "*" then
    error("plugin:route: method must be \"GET\", \"POST\", ... or \"*\"", 2)
  end
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    error("plugin:route: path must start with /", 2)
  end
  if type(fn) ~= "function" then
    error("plugin:route: fn must be a function", 2)
  end
  local segs = path_segments(path)
  for _, seg in ipairs(segs) do
    if seg:find("[{}]") and not seg:match("^{[%a_][%w_]*}$") then
      error(("plugin:route: bad segment %q (a {name} placeholder is a whole"
        .. " segment)"):format(seg), 2)
    end
  end
  path = "/" .. table.concat(segs, "/")
  local m = rec.manager
  local key = method .. " " .. path
  local other = m.routes[key]
  if other and other.plugin ~= rec.name then
    error(("plugin:route: %s is already served by plugin %s")
      :format(key, other.plugin), 2)
  end
  local r = {
    key = key, method = method, path = path, fn = fn, plugin = rec.name,
    segs = segs,
  }
  table.insert(rec.regs.routes, r)
  if rec.committed then
    m.routes[key] = r
  end
end

-- plugin:option(name, default): the option's value, or default when unset.
function api:option(name, default)
  local rec = record_of(self, "option")
  local v = rec.options[name]
  if v == nil then
    return default
  end
  return v
end

local function typed_option(kind, check)
  return function(self, name, default)
    local rec = record_of(self, "option_" .. kind)
    local v = rec.options[name]
    if v == nil then
      return default
    end
    if not check(v) then
      error(("plugins.options.%s.%s: %s expected, got %s")
        :format(rec.name, name, kind, type(v)), 2)
    end
    return v
  end
end

api.option_boolean = typed_option("boolean", function(v)
  return type(v) == "boolean"
end)
api.option_number = typed_option("number", function(v)
  return type(v) == "number"
end)
api.option_integer = typed_option("integer", function(v)
  return math.type(v) == "integer"
end)
api.option_string = typed_option("string", function(v)
  return type(v) == "string"
end)

local function new_record(m, name, path, options)
  local rec = {
    manager = m, name = name, path = path, options = options,
    regs = { verbs = {}, hooks = {}, routes = {} },
    committed = false,
  }
  local fields = { name = name, path = path, options = options }
  local object = setmetatable({}, {
    __index = function(_, k)
      local v = fields[k]
      if v ~= nil then
        return v
      end
      return api[k]
    end,
    __newindex = function(_, k)
      error(("plugin object is read-only (setting '%s')"):format(tostring(k)), 2)
    end,
    __tostring = function()
      return "plugin " .. name
    end,
    __metatable = "plugin",
  })
  rec.object = sandbox.protect(object)   -- no rawset shadowing
  records[object] = rec
  return rec
end

local function commit(m, rec)
  for name, v in pairs(rec.regs.verbs) do
    m.verbs[name] = v
  end
  for _, h in ipairs(rec.regs.hooks) do
    insert_hook(m, h)
  end
  for _, r in ipairs(rec.regs.routes) do
    m.routes[r.key] = r
  end
  rec.committed = true
end

local function withdraw(m, rec)
  for name, v in pairs(rec.regs.verbs) do
    if m.verbs[name] == v then
      m.verbs[name] = nil
    end
  end
  for _, h in ipairs(rec.regs.hooks) do
    remove_hook(m, h)
  end
  for _, r in ipairs(rec.regs.routes) do
    if m.routes[r.key] == r then
      m.routes[r.key] = nil
    end
  end
  rec.committed = false
end

--------------------------------------------------------------------------
-- The manager
--------------------------------------------------------------------------

-- plugins.new{ paths, options, scan, readfile, log, globals }
--   paths     array of folders, searched in order
--   options   the config's plugins.options table
--   scan      scan(dir) -> array of relative paths of *.lua files
--   readfile  readfile(path) -> text | nil, message
--   log       log(level, message)
--   globals   extra globals for every plugin (sleep, http); table values
--             are copied per plugin
function plugins.new(opts)
  opts = opts or {}
  return setmetatable({
    paths = opts.paths or {},
    options = opts.options or {},
    scan = opts.scan or function() return {} end,
    readfile = opts.readfile or function(path)
      return nil, path .. ": no file access"
    end,
    log = opts.log or function() end,
    globals = opts.globals or {},
    loaded = {},                -- name -> record
    verbs = {},                 -- verb name -> { name, spec, fn, plugin }
    hooks = {},                 -- event -> sorted handlers
    routes = {},                -- "METHOD /path" -> { method, path, fn, plugin }
    seq = 0,
  }, manager)
end

local function make_env(m, rec)
  local extra = {}
  for k, v in pairs(m.globals) do
    if type(v) == "table" then
      local c = {}
      for k2, v2 in pairs(v) do
        c[k2] = v2
      end
      v = c
    end
    extra[k] = v
  end
  extra.plugin = rec.object
  extra.print = function(...)
    local parts = table.pack(...)
    for i = 1, parts.n do
      parts[i] = tostring(parts[i])
    end
    rec.manager.log("info", ("[%s] %s"):format(rec.name, table.concat(parts, "\t")))
  end
  return sandbox.new_env(extra)
end

-- Loads (or reloads) one plugin from path. Returns true, or nil, kind,
-- message with kind "io", "syntax" or "runtime"; on failure whatever was
-- loaded under that name before stays in place.
function manager:load_file(name, path)
  local options = options_for(self.options, name)
  if options.enabled == false then
    if self.loaded[name] then
      self:unload(name)
    end
    self.log("info", ("plugin %s: disabled by plugins.options"):format(name))
    return true
  end
  local text, err = self.readfile(path)
  if not text then
    return nil, "io", err
  end
  local rec = new_record(self, name, path, options)
  local fn, cerr = load(text, "@" .. path, "t", make_env(self, rec))
  if not fn then
    return nil, "syntax", cerr
  end
  local ok, rerr = xpcall(fn, traceback)
  if not ok then
    return nil, "runtime", rerr
  end
  local old = self.loaded[name]
  if old then
    withdraw(self, old)
  end
  commit(self, rec)
  self.loaded[name] = rec
  return true
end

-- Removes a plugin and every registration it made. Returns true, or nil,
-- "not-found".
function manager:unload(name)
  local rec = self.loaded[name]
  if not rec then
    return nil, "not-found", ("no plugin named %s"):format(tostring(name))
  end
  withdraw(self, rec)
  self.loaded[name] = nil
  return true
end

-- Every plugin file on the paths: array of { name, path } in load order
-- (path order, then sorted), first path winning a name.
function manager:discover()
  local seen, list = {}, {}
  for _, dir in ipairs(self.paths) do
    for _, rel in ipairs(self.scan(dir)) do
      local name = plugins.name_of(rel)
      if not seen[name] then
        seen[name] = true
        table.insert(list, { name = name, path = dir .. "/" .. rel })
      end
    end
  end
  return list
end

local function report(m, name, kind, err)
  local msg = ("plugin %s: %s error: %s"):format(name, kind, tostring(err))
  m.log("error", msg)
  return msg
end

-- Loads every plugin found. Returns the number that failed and the first
-- failure's message.
function manager:load_all()
  local failed, first = 0, nil
  for _, p in ipairs(self:discover()) do
    local ok, kind, err = self:load_file(p.name, p.path)
    if not ok then
      failed = failed + 1
      local msg = report(self, p.name, kind, err)
      first = first or msg
    else
      self.log("debug", ("plugin %s: loaded from %s"):format(p.name, p.path))
    end
  end
  return failed, first
end

-- reload(name): that plugin from its file. reload(): rescan; new files
-- load, vanished ones unload, the others reload. Returns true, or nil,
-- kind, message (the first failure; the failing plugins keep their old
-- version).
function manager:reload(name)
  if name ~= nil then
    local rec = self.loaded[name]
    local path = rec and rec.path
    if path == nil then
      for _, p in ipairs(self:discover()) do
        if p.name == name then
          path = p.path
          break
        end
      end
    end
    if path == nil then
      return nil, "not-found", ("no plugin named %s"):format(name)
    end
    local ok, kind, err = self:load_file(name, path)
    if not ok then
      return nil, kind, report(self, name, kind, err)
    end
    self.log("info", ("plugin %s: reloaded"):format(name))
    return true
  end
  local found, first_kind, first_msg = {}, nil, nil
  for _, p in ipairs(self:discover()) do
    found[p.name] = true
    local ok, kind, err = self:load_file(p.name, p.path)
    if ok then
      -- One line per plugin with its result (a failure is report's line).
      self.log("info", ("plugin %s: reloaded"):format(p.name))
    elseif first_kind == nil then
      first_kind, first_msg = kind, report(self, p.name, kind, err)
    else
      report(self, p.name, kind, err)
    end
  end
  for loaded_name in pairs(self.loaded) do
    if not found[loaded_name] then
      self:unload(loaded_name)
      self.log("info", ("plugin %s: unloaded (file gone)"):format(loaded_name))
    end
  end
  if first_kind then
    return nil, first_kind, first_msg
  end
  return true
end

-- Runs the event's handlers in order; the first non-nil return wins and
-- is returned (all its values). Handlers may wait when the caller is a
-- session. A handler that raises is logged with its plugin and skipped.
function manager:fire(event, ...)
  local list = self.hooks[event]
  if list == nil then
    return nil
  end
  local snapshot = table.move(list, 1, #list, 1, {})
  for _, h in ipairs(snapshot) do
    if h.active then
      local r = table.pack(xpcall(h.fn, traceback, ...))
      if not r[1] then
        self.log("error", ("plugin %s: hook %s failed: %s")
          :format(h.plugin, event, tostring(r[2])))
      elseif r[2] ~= nil then
        return table.unpack(r, 2, r.n)
      end
    end
  end
  return nil
end

-- Returns the verb entry { name, spec, fn, plugin } or nil.
function manager:verb(name)
  return self.verbs[name]
end

-- Returns the route entry for an exact method and path pattern, or nil.
function manager:route(method, path)
  return self.routes[method .. " " .. path]
end

-- Matches a route's segments against a request's; returns the captures
-- and a rank string ("b" literal, "a" placeholder per segment: a larger
-- string is more literal further left), or nil.
local function match_segments(pattern, segs)
  if #pattern ~= #segs then
    return nil
  end
  local caps, rank = {}, {}
  for i, p in ipairs(pattern) do
    local name = p:match("^{(.+)}$")
    if name then
      caps[name] = segs[i]
      rank[i] = "a"
    elseif p == segs[i] then
      rank[i] = "b"
    else
      return nil
    end
  end
  return caps, table.concat(rank)
end

-- The route serving method and path, and its {name} captures. When none
-- serves it: nil and the sorted list of methods routes have for this path
-- (empty: no route has this path). Literal segments further left win over
-- placeholders, then an exact method over "*", then the smaller key.
function manager:match_route(method, path)
  local segs = path_segments(path)
  local best, best_caps, best_rank
  local allow = {}
  for key, r in pairs(self.routes) do
    local caps, rank = match_segments(r.segs, segs)
    if caps then
      if r.method == method or r.method == "*" then
        rank = rank .. (r.method == "*" and "a" or "b")
        if best == nil or rank > best_rank or rank == best_rank and key < best.key then
          best, best_caps, best_rank = r, caps, rank
        end
      else
        allow[r.method] = true
      end
    end
  end
  if best then
    return best, best_caps
  end
  local methods = {}
  for mth in pairs(allow) do
    methods[#methods + 1] = mth
  end
  table.sort(methods)
  return nil, methods
end

-- For the console: array of { name, path, verbs, hooks, routes }.
function manager:list()
  local out = {}
  for name, rec in pairs(self.loaded) do
    local verbs, hooks, routes = {}, {}, {}
    for v in pairs(rec.regs.verbs) do
      table.insert(verbs, v)
    end
    for _, h in ipairs(rec.regs.hooks) do
      table.insert(hooks, h.event)
    end
    for _, r in ipairs(rec.regs.routes) do
      table.insert(routes, r.key)
    end
    table.sort(verbs)
    table.insert(out, {
      name = name, path = rec.path, verbs = verbs, hooks = hooks, routes = routes,
    })
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

return plugins
