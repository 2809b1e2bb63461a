-- switchboard.sandbox: the environment a plugin runs in.
--
-- Globals are allow-listed. Library tables are copied per plugin, so one
-- plugin cannot change string.format for another. Absent on purpose: io,
-- os.execute, os.exit, os.remove, os.rename, os.getenv, dofile, loadfile,
-- package (and so package.loadlib), debug, collectgarbage, require of
-- anything but the modules listed in `requirable`.

local sandbox = {}

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
    return require(name)
  end

  env._G = env
  for k, v in pairs(extra or {}) do
    env[k] = v
  end
  return env
end

return sandbox
