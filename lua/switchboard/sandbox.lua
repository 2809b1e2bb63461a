-- switchboard.sandbox: the environment a plugin runs in.
--
-- Globals are allow-listed. Library tables are copied per plugin, so one
-- plugin cannot change string.format for another. Absent on purpose: io,
-- os.execute, os.exit, os.remove, os.rename, os.getenv, dofile, loadfile,
-- package (and so package.loadlib), debug, collectgarbage, require of
-- anything but the modules listed in `requirable`.
--
-- Shared state is read-only: a required module is seen through a
-- read-only view (one plugin cannot replace uri.resolve under the RCML
-- interpreter of every account), and rawset refuses those views and the
-- plugin objects (sandbox.protect), which would otherwise be shadowed.
-- Finalizers (__gc) are refused by setmetatable: the collector runs them
-- at any allocation, also outside the instruction and time limits of a
-- resume (a finalizer that never returns hung the server).

local sandbox = {}

-- Tables rawset must not write: read-only views and plugin objects.
local protected = setmetatable({}, { __mode = "k" })
-- table -> its read-only view (ephemeron: the view lives with the table).
local views = setmetatable({}, { __mode = "k" })

-- Marks t (a table guarded by its metatable, such as a plugin object) so
-- that a plugin's rawset cannot write into it. Returns t.
function sandbox.protect(t)
  protected[t] = true
  return t
end

-- Returns a read-only view of t (t itself when it is not a table):
-- fields read through it, tables inside it seen the same way; writing,
-- rawset and setmetatable on it raise.
function sandbox.readonly(t)
  if type(t) ~= "table" then
    return t
  end
  local v = views[t]
  if v then
    return v
  end
  local readonly = sandbox.readonly
  v = setmetatable({}, {
    __index = function(_, k)
      return readonly(t[k])
    end,
    __newindex = function(_, k)
      error(("read-only table (setting '%s')"):format(tostring(k)), 2)
    end,
    __pairs = function()
      return function(_, k)
        local nk, nv = next(t, k)
        return nk, readonly(nv)
      end, v, nil
    end,
    __len = function()
      return #t
    end,
    __metatable = "read-only",
  })
  views[t] = v
  protected[v] = true
  return v
end

local function safe_rawset(t, k, v)
  if protected[t] then
    error(("read-only table (rawset of '%s')"):format(tostring(k)), 2)
  end
  return rawset(t, k, v)
end

local function safe_setmetatable(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc finalizers are not available to plugins", 2)
  end
  return setmetatable(t, mt)
end

local SAFE_GLOBALS = {
  "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
  "rawequal", "rawget", "rawlen", "rawset", "select", "setmetatable",
  "tonumber", "tostring", "type", "xpcall", "_VERSION",
}

local SAFE_LIBS = { "coroutine", "math", "string", "table", "utf8" }

local SAFE_OS = { "clock", "date", "difftime", "time" }

-- Modules of the shipped library a plugin may require.
sandbox.requirable = {
  ["switchboard.uri"] = true,
}

local function copy(t)
  local c = {}
  for k, v in pairs(t) do
    c[k] = v
  end
  return c
end

-- Returns a new environment table. `extra` (optional) adds globals, such
-- as the plugin object, sleep and http; they are copied in last.
function sandbox.new_env(extra)
  local env = {}
  for _, name in ipairs(SAFE_GLOBALS) do
    env[name] = _G[name]
  end
  env.rawset = safe_rawset
  env.setmetatable = safe_setmetatable
  for _, name in ipairs(SAFE_LIBS) do
    env[name] = copy(_G[name])
  end
  local os_ = {}
  for _, name in ipairs(SAFE_OS) do
    os_[name] = os[name]
  end
  env.os = os_

  -- load: text chunks only; the default environment is the plugin's own.
  env.load = function(chunk, name, _, chunk_env)
    if chunk_env == nil then
      chunk_env = env
    end
    return load(chunk, name, "t", chunk_env)
  end

  env.require = function(name)
    if type(name) ~= "string" or not sandbox.requirable[name] then
      error(("module '%s' is not available to plugins"):format(tostring(name)), 2)
    end
    return sandbox.readonly(require(name))
  end

  env._G = env
  for k, v in pairs(extra or {}) do
    env[k] = v
  end
  return env
end

return sandbox
