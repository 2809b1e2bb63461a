-- switchboard.rcml: the RCML interpreter.
--
-- rcml.run(call, host, app) runs one application on one call, inside the
-- call's session (it waits on fetches and verbs):
--
--   1. fetch app.url with the standard voice parameters (call:params())
--      plus app.params, by GET (query) or POST (form body);
--   2. on a fetch or parse failure of that first document: a
--      Notification, then app.fallback_url once (same parameters);
--   3. fire the "rcml.document" hook on the fetched text (Visual
--      Designer substitution lives there); a handler may set ev.text, or
--      return a string, to change the document. A response typed audio/*
--      is instead run as <Play> of its URL, one typed text/plain as <Say>
--      of its body (Restcomm's response typing);
--   4. parse (host.parse_rcml), pre-scan the whole tree (nested verbs
--      too) and hand every Play URL and Say text to call:prefetch at once
--      (each verb's spec.prefetch says what it will need), then run the
--      verbs of <Response> in order through the verb registry
--      (host.verb(name) -> plugin entry);
--   5. a verb may ask for the next document (<Redirect>, action URLs):
--      relative URLs resolve against the current document's URL; more
--      than max_redirects consecutive documents that run no other verb
--      end the call (a <Redirect> loop);
--   6. at the end of the document, or on any failure, the call is hung up.
--
-- Every failure is reported once through host.notify with a Restcomm
-- error code (rcml.codes) and the call is hung up; an unknown verb is a
-- warning and is skipped. The host is a table of functions so that specs
-- can drive the interpreter with spec/helpers/fake_host.lua:
--
--   host.fetch{ url, method, params, timeout, max_bytes }
--       -> { status, body, content_type, url } | nil, reason, message
--   host.parse_rcml(text) -> tree | nil, reason, message
--   host.fire(event, ...) -> first non-nil handler result
--   host.verb(name) -> { name, spec, fn, plugin } | nil
--   host.notify(call, { code, level, message, url, method, body })
--   host.log(level, message)
--
-- The verb protocol (docs/plugin-api.md): fn(call, node, ctx) returns
--   true (or nothing)    go on with the next verb
--   false                the application is over (the call is hung up
--                        if the verb left it up)
--   { url =, method =, params = }   fetch that document and run it
--   nil, reason [, message]         failure: "hangup" ends quietly; any
--                        other reason is a Notification, then hangup.

local uri = require "switchboard.uri"

local rcml = {}

rcml.MAX_REDIRECTS = 10
rcml.FETCH_TIMEOUT = 10                 -- seconds
rcml.MAX_DOCUMENT_BYTES = 1024 * 1024
rcml.MAX_PREFETCH = 64                  -- items warmed per document

-- Notification codes. Restcomm's own where it has one (restcomm.md 2.6,
-- 3.1); Twilio's, which Restcomm's numbering follows, where it has none.
rcml.codes = {
  INVALID_URL = 11100,          -- Restcomm: invalid URL
  HTTP_RETRIEVAL = 11200,       -- Twilio: HTTP answer other than 2xx/404
  HTTP_CONNECTION = 11205,      -- Restcomm: connection failure or timeout
  HTTP_PROTOCOL = 11206,        -- Restcomm: protocol violation (too big,
                                -- too many HTTP redirects)
  TOO_MANY_REDIRECTS = 11215,   -- Twilio: too many redirects (RCML loop)
  DOCUMENT_PARSE = 12100,       -- Twilio: document parse failure
  SCHEMA = 12200,               -- Twilio: schema validation (wrong root,
                                -- unknown verb, bad attribute value)
  CONTENT_TYPE = 12300,         -- Restcomm: invalid content type
  INTERNAL = 12400,             -- Restcomm: internal failure (plugin error)
  URL_NOT_FOUND = 21402,        -- Restcomm: URL not found (HTTP 404)
}
local codes = rcml.codes

local XML_TYPES = {
  ["text/xml"] = true, ["application/xml"] = true, ["text/html"] = true,
}

local function media_type(ct)
  return ((ct or ""):match("^%s*([^;%s]+)") or ""):lower()
end

-- A missing Content-Type is accepted (many static servers omit it).
local function content_type_ok(ct)
  if ct == nil or ct == "" then
    return true
  end
  local base = media_type(ct)
  return XML_TYPES[base] or base:match("%+xml$") ~= nil
end

-- Restcomm's response typing: a document URL that answers audio is
-- played, one that answers text/plain is said. Returns the tree of that
-- one-verb document, or nil for any other type.
-- Linear trim of ASCII white space (a pattern such as "^%s*(.-)%s*$" is
-- quadratic in runs of spaces, and one C call escapes the limits).
local function trim(text)
  local first = text:find("%S")
  if not first then
    return ""
  end
  local last = #text
  local b = text:byte(last)
  while b == 32 or (b >= 9 and b <= 13) do
    last = last - 1
    b = text:byte(last)
  end
  return text:sub(first, last)
end

local function typed_document(res, final)
  local base = media_type(res.content_type)
  local verb
  if base:match("^audio/") then
    verb = { name = "Play", attrs = {}, text = final, children = {}, line = 1 }
  elseif base == "text/plain" then
    local text = trim(res.body or "")
    verb = { name = "Say", attrs = {}, text = text, children = {}, line = 1 }
  else
    return nil
  end
  return { name = "Response", attrs = {}, text = "", children = { verb }, line = 1 }
end

local function traceback(err)
  return debug.traceback(tostring(err), 2)
end

local function first_line(s)
  s = tostring(s)
  return s:match("^[^\n]*")
end

local function notify(s, code, level, message, url, method, body)
  s.host.notify(s.call, {
    code = code, level = level, message = message, url = url,
    method = method, body = body,
  })
end

-- Merges parameter lists (arrays of { name, value } or maps, later ones
-- overriding earlier names) into one array of { name, value }.
local function merge_params(...)
  local out, index = {}, {}
  local function add(name, value)
    value = tostring(value)
    local i = index[name]
    if i then
      out[i][2] = value
    else
      out[#out + 1] = { name, value }
      index[name] = #out
    end
  end
  for i = 1, select("#", ...) do
    local list = select(i, ...)
    if type(list) == "table" then
      if list[1] ~= nil then
        for _, p in ipairs(list) do
          add(p[1], p[2])
        end
      else
        local names = {}
        for k in pairs(list) do
          names[#names + 1] = k
        end
        table.sort(names)
        for _, k in ipairs(names) do
          add(k, list[k])
        end
      end
    end
  end
  return out
end
rcml.merge_params = merge_params

-- True when an array of { name, value } names a parameter twice.
local function has_duplicates(list)
  local seen = {}
  for _, p in ipairs(list) do
    if seen[p[1]] then
      return true
    end
    seen[p[1]] = true
  end
  return false
end

local function method_of(m)
  m = type(m) == "string" and m:upper() or "POST"
  if m ~= "GET" and m ~= "POST" then
    m = "POST"
  end
  return m
end

--------------------------------------------------------------------------
-- Fetching a document
--------------------------------------------------------------------------

-- Returns tree, final_url; or nil, "hangup"; or nil, code, message, body.
local function attempt(s, url, method, params)
  if not uri.is_http(url) then
    return nil, codes.INVALID_URL, ("invalid URL '%s'"):format(tostring(url))
  end
  url = uri.strip_fragment(url)
  local res, reason, detail = s.document, nil, nil
  s.document = nil
  if not res then
    res, reason, detail = s.host.fetch({
      url = url, method = method, params = params, timeout = s.timeout,
      max_bytes = s.max_bytes,
    })
  end
  if not res then
    if reason == "hangup" then
      return nil, "hangup"
    end
    local code = codes.HTTP_CONNECTION
    if reason == "too-big" or reason == "limit" then
      code = codes.HTTP_PROTOCOL
    end
    return nil, code, ("%s %s failed: %s"):format(method, url, detail or reason)
  end
  local status = tonumber(res.status) or 0
  if status == 404 then
    return nil, codes.URL_NOT_FOUND, ("%s %s: HTTP 404"):format(method, url),
      res.body
  end
  if status < 200 or status > 299 then
    return nil, codes.HTTP_RETRIEVAL,
      ("%s %s: HTTP %d"):format(method, url, status), res.body
  end
  local final = res.url or url
  local typed = typed_document(res, final)
  if typed then
    return typed, final
  end
  if not content_type_ok(res.content_type) then
    return nil, codes.CONTENT_TYPE,
      ("%s %s: content type '%s' is not XML"):format(method, url,
        tostring(res.content_type)), res.body
  end
  local ev = {
    call = s.call, url = final, method = method, params = params,
    text = res.body or "", status = status, content_type = res.content_type,
  }
  local r = s.host.fire("rcml.document", ev)
  local text = ev.text
  if type(r) == "string" then
    text = r
  end
  if type(text) ~= "string" then
    text = res.body or ""
  end
  local tree, preason, pmsg = s.host.parse_rcml(text)
  if not tree then
    local code = preason == "invalid-rcml" and codes.SCHEMA or codes.DOCUMENT_PARSE
    return nil, code,
      ("document from %s: %s"):format(final, tostring(pmsg or preason)), text
  end
  return tree, final
end

-- Returns tree, url, method; or nil, "hangup" | "failed" (notified).
local function load_document(s, url, method, params, first)
  local tree, a, b, c = attempt(s, url, method, params)
  if tree then
    return tree, a, method
  end
  if a == "hangup" then
    return nil, "hangup"
  end
  notify(s, a, "error", b, url, method, c)
  local fb = s.app.fallback_url
  if first and fb and fb ~= "" then
    local fm = method_of(s.app.fallback_method)
    tree, a, b, c = attempt(s, fb, fm, params)
    if tree then
      return tree, a, fm
    end
    if a == "hangup" then
      return nil, "hangup"
    end
    notify(s, a, "error", b, fb, fm, c)
  end
  return nil, "failed"
end

--------------------------------------------------------------------------
-- Attributes
--------------------------------------------------------------------------

local function convert(a, raw)
  local t = a.type or "string"
  if t == "string" then
    return raw
  elseif t == "integer" then
    local d = raw:match("^%s*([+-]?%d+)%s*$")
    local n = d and math.tointeger(tonumber(d))
    if n == nil or (a.min and n < a.min) or (a.max and n > a.max) then
      return nil
    end
    return n
  elseif t == "number" then
    local n = tonumber(raw)
    if n == nil or n ~= n or n == math.huge or n == -math.huge
      or (a.min and n < a.min) or (a.max and n > a.max) then
      return nil
    end
    return n
  elseif t == "boolean" then
    local l = raw:lower()
    if l == "true" then
      return true
    elseif l == "false" then
      return false
    end
    return nil
  elseif t == "method" then
    local u = raw:upper()
    if u == "GET" or u == "POST" then
      return u
    end
    return nil
  elseif t == "enum" then
    local l = raw:lower()
    for _, v in ipairs(a.values or {}) do
      if v:lower() == l then
        return v
      end
    end
    return nil
  end
  error(("verb spec: unknown attribute type '%s'"):format(tostring(t)))
end

-- Converts node's attributes per the verb's spec: an invalid value is
-- passed to invalid(name, raw, attr) (when given) and replaced by its
-- default. Returns the attrs, or (when required is true) nil and a
-- message when a required one is missing.
local function convert_attrs(spec, node, invalid, required)
  local attrs = {}
  for k, v in pairs(node.attrs or {}) do
    attrs[k] = v
  end
  for name, a in pairs(spec.attrs or {}) do
    local raw = attrs[name]
    local value
    if raw ~= nil then
      value = convert(a, raw)
      if value == nil and invalid then
        invalid(name, raw, a)
      end
    end
    if value == nil then
      value = a.default
    end
    if value == nil and a.required and required then
      return nil, ("<%s> line %d: attribute %s is required")
        :format(node.name, node.line or 0, name)
    end
    attrs[name] = value
  end
  return attrs
end

-- Returns the node the verb sees (attrs converted per spec, children
-- filtered per spec.nests), or nil and a message.
local function prepare(s, ctx, entry, node)
  local spec = entry.spec or {}
  local attrs, err = convert_attrs(spec, node, function (name, raw, a)
    local using = a.default ~= nil and ("; using %s"):format(tostring(a.default)) or ""
    notify(s, a.code or codes.SCHEMA, "warning",
      ("<%s> line %d: invalid %s=\"%s\"%s"):format(node.name, node.line or 0,
        name, raw, using), ctx.url)
  end, true)
  if not attrs then
    return nil, err
  end
  local children = node.children or {}
  if spec.nests == false and #children > 0 then
    notify(s, codes.SCHEMA, "warning",
      ("<%s> line %d: nested elements ignored"):format(node.name, node.line or 0),
      ctx.url)
    children = {}
  elseif type(spec.nests) == "table" then
    local allowed, kept = {}, {}
    for _, n in ipairs(spec.nests) do
      allowed[n] = true
    end
    for _, c in ipairs(children) do
      if allowed[c.name] then
        kept[#kept + 1] = c
      else
        notify(s, codes.SCHEMA, "warning",
          ("<%s> line %d: <%s> not allowed inside, ignored")
            :format(node.name, c.line or 0, c.name), ctx.url)
      end
    end
    children = kept
  end
  return {
    name = node.name, attrs = attrs, text = node.text or "",
    children = children, line = node.line,
  }
end

--------------------------------------------------------------------------
-- Running verbs
--------------------------------------------------------------------------

local run_nodes

-- Outcome of a verb: "continue", "stop", "hangup", "failed" or a
-- transition { url, method, params }.
local function transition(s, ctx, t, name)
  if type(t.url) ~= "string" or t.url == "" then
    notify(s, codes.SCHEMA, "error", ("<%s>: no URL to go to"):format(name), ctx.url)
    return "failed"
  end
  local target, err = uri.resolve(ctx.url, t.url)
  if not target then
    notify(s, codes.INVALID_URL, "error", err, ctx.url)
    return "failed"
  end
  return { url = target, method = method_of(t.method), params = t.params }
end

local function run_verb(s, ctx, node)
  local entry = s.host.verb(node.name)
  if entry == nil then
    notify(s, codes.SCHEMA, "warning",
      ("unknown verb <%s> at line %d skipped"):format(tostring(node.name),
        node.line or 0), ctx.url)
    return "continue"
  end
  local vnode, perr = prepare(s, ctx, entry, node)
  if vnode == nil then
    notify(s, codes.SCHEMA, "error", perr, ctx.url)
    return "failed"
  end
  local ok, r1, r2, r3 = xpcall(entry.fn, traceback, s.call, vnode, ctx)
  if not ok then
    s.host.log("error", ("plugin %s: verb %s failed: %s")
      :format(entry.plugin or "?", node.name, tostring(r1)))
    notify(s, codes.INTERNAL, "error",
      ("<%s> (plugin %s) failed: %s"):format(node.name, entry.plugin or "?",
        first_line(r1)), ctx.url)
    return "failed"
  end
  if r1 == false then
    return "stop"
  end
  if type(r1) == "table" then
    -- A verb that went to its action after doing something (a Record, a
    -- Gather with input, a Dial) is progress; only <Redirect> is not, so
    -- that the guard still catches documents that do nothing but
    -- redirect.
    if node.name ~= "Redirect" then
      s.progress = true
    end
    return transition(s, ctx, r1, node.name)
  end
  if r1 == nil and r2 ~= nil then
    if r2 == "hangup" then
      return "hangup"
    end
    if r2 == "notified" then
      return "failed"
    end
    local code = r2 == "invalid-rcml" and codes.SCHEMA or codes.INTERNAL
    notify(s, code, "error",
      ("<%s> line %d failed: %s"):format(node.name, node.line or 0,
        tostring(r3 or r2)), ctx.url)
    return "failed"
  end
  if r2 ~= "idle" then    -- true, "idle": did nothing (<Pause length="0"/>)
    s.progress = true
  end
  return "continue"
end

run_nodes = function(s, ctx, nodes)
  for _, node in ipairs(nodes) do
    if s.call.alive == false then
      return "hangup"
    end
    local outcome = run_verb(s, ctx, node)
    if outcome ~= "continue" then
      return outcome
    end
  end
  return "done"
end

-- The parameters a document was fetched with, kept while it runs (a
-- session may wait in a verb for hours) as one flat array { name, value,
-- name, value, ... } instead of a table per pair; ctx.params unpacks
-- them on each use.
local function pack_params(params)
  local flat = {}
  for i, p in ipairs(params) do
    flat[2 * i - 1], flat[2 * i] = p[1], p[2]
  end
  return flat
end

local function unpack_params(flat)
  local out = {}
  for i = 1, #flat, 2 do
    out[#out + 1] = { flat[i], flat[i + 1] }
  end
  return out
end

-- What a verb receives as its third argument. Its session (the host, the
-- application, the redirect count) is kept here, out of the plugins'
-- reach: a verb of one plugin must not reach the host table every session
-- shares (and, say, replace another verb for every account).
local sessions = setmetatable({}, { __mode = "k" })
local ctx_mt = {}
ctx_mt.__index = function (ctx, key)
  if key == "params" then
    return unpack_params(rawget(ctx, "_params"))
  end
  return ctx_mt[key]
end

-- ctx:resolve(ref): ref resolved against the current document's URL.
function ctx_mt:resolve(ref)
  return uri.resolve(self.url, ref)
end

-- ctx:notify(code, level, message): a Notification about this document.
function ctx_mt:notify(code, level, message)
  notify(sessions[self], code, level, message, self.url)
end

-- ctx:run(nodes): runs nested verbs (Gather's Say/Play/Pause). Returns
-- true when they all ran, false when one ended the application, a
-- transition table, or nil, "hangup" / nil, "notified" (already reported:
-- return it as is).
function ctx_mt:run(nodes)
  local outcome = run_nodes(sessions[self], self, nodes or {})
  if outcome == "done" then
    return true
  elseif outcome == "stop" then
    return false
  elseif outcome == "hangup" then
    return nil, "hangup"
  elseif outcome == "failed" then
    return nil, "notified"
  end
  return outcome
end

-- ctx:fetch_document(url, method): fetches and parses another document
-- with the call's parameters (a Conference's waitUrl). Returns its tree
-- and a ctx for running its verbs (relative URLs resolved against it), or
-- nil, "hangup" / nil, "notified" (the failure is a Notification).
function ctx_mt:fetch_document(url, method)
  local s = sessions[self]
  local target = uri.resolve(self.url, url)
  if not target then
    notify(s, codes.INVALID_URL, "error", ("invalid URL '%s'"):format(tostring(url)),
      self.url)
    return nil, "notified"
  end
  local params = self.call:params()
  if params == nil then
    return nil, "hangup"
  end
  method = method_of(method)
  local tree, a, b, c = attempt(s, target, method, params)
  if not tree then
    if a == "hangup" then
      return nil, "hangup"
    end
    notify(s, a, "error", b, target, method, c)
    return nil, "notified"
  end
  local sub = setmetatable({
    call = self.call, url = a, method = method,
    _params = pack_params(params), document = tree,
  }, ctx_mt)
  sessions[sub] = s
  return tree, sub
end

--------------------------------------------------------------------------
-- The pre-scan: warming the audio of a whole document
--------------------------------------------------------------------------

-- The node a verb's spec.prefetch sees: attrs converted per spec, an
-- invalid value silently replaced by its default (the verb reports it
-- when it runs).
local function quiet_node(entry, node)
  return {
    name = node.name, attrs = convert_attrs(entry.spec or {}, node),
    text = node.text or "", children = node.children or {}, line = node.line,
  }
end

local function prefetch_key(item)
  if type(item.url) == "string" then
    return "u\0" .. item.url
  elseif type(item.text) == "string" then
    return ("t\0%s\0%s\0%s"):format(tostring(item.voice),
      tostring(item.language), item.text)
  end
end

-- Appends to out what the verbs of nodes (and of their nested nodes, a
-- Gather's Say and Play) want warmed: each verb whose spec has a
-- prefetch function (Play, Say) is asked, fn(node, ctx) -> nil, an item
-- or a list of items ({ url = absolute } or { text, voice, language }).
local function collect_prefetch(s, ctx, nodes, out, seen)
  for _, node in ipairs(nodes or {}) do
    if #out >= rcml.MAX_PREFETCH then
      return
    end
    local entry = type(node.name) == "string" and s.host.verb(node.name) or nil
    local fn = entry and type(entry.spec) == "table" and entry.spec.prefetch
    if type(fn) == "function" then
      local ok, items = pcall(function ()
        return fn(quiet_node(entry, node), ctx)
      end)
      if not ok then
        s.host.log("warn", ("plugin %s: prefetch of <%s> failed: %s")
          :format(entry.plugin or "?", node.name, first_line(items)))
      elseif type(items) == "table" then
        if items[1] == nil then
          items = { items }
        end
        for _, item in ipairs(items) do
          local key = type(item) == "table" and prefetch_key(item)
          if key and not seen[key] and #out < rcml.MAX_PREFETCH then
            seen[key] = true
            out[#out + 1] = item
          end
        end
      end
    end
    if node.children and #node.children > 0 then
      collect_prefetch(s, ctx, node.children, out, seen)
    end
  end
end

-- Starts the downloads and syntheses of a document's Play and Say before
-- its verbs run (call:prefetch returns at once). Never fails the
-- document: an error is logged.
local function prefetch_document(s, ctx, tree)
  local call = s.call
  if call.alive == false then
    return
  end
  local ok, err = pcall(function ()
    local list = {}
    collect_prefetch(s, ctx, tree.children, list, {})
    if #list > 0 and call.prefetch ~= nil then
      call:prefetch(list)
    end
  end)
  if not ok then
    s.host.log("warn", "prefetch failed: " .. first_line(err))
  end
end

local function finish(s, outcome)
  local call = s.call
  if outcome == "hangup" then
    return "hangup"
  end
  if call.alive ~= false then
    call:hangup()
  end
  if outcome == "failed" then
    return "failed"
  end
  return "completed"
end

-- Runs app on call. app: { url, method = "POST", fallback_url,
-- fallback_method = "POST", params (extra parameters on every request),
-- timeout (seconds), max_redirects, document (the first response,
-- fetched already, as host.fetch returns it) }.
-- Returns "completed" (the document ended or a verb ended the call),
-- "hangup" (the call ended under it) or "failed" (notified, hung up).
function rcml.run(call, host, app)
  app = app or {}
  local s = {
    call = call, host = host, app = app,
    timeout = app.timeout or rcml.FETCH_TIMEOUT,
    max_bytes = rcml.MAX_DOCUMENT_BYTES,
    max_redirects = app.max_redirects or rcml.MAX_REDIRECTS,
    redirects = 0,
    -- A first document fetched already (a REST redirect fetches it
    -- before it swaps the application in): the first attempt uses it.
    document = type(app.document) == "table" and app.document or nil,
  }
  if type(app.url) ~= "string" or app.url == "" then
    notify(s, codes.INVALID_URL, "error", "no application URL")
    return finish(s, "failed")
  end
  local url, method, extra = app.url, method_of(app.method), nil
  local first = true
  while true do
    local params = call:params()
    if params == nil then
      return finish(s, "hangup")
    end
    -- call:params() is a fresh list: used as it is when nothing merges
    -- into it.
    if app.params or extra or has_duplicates(params) then
      params = merge_params(params, app.params, extra)
    end
    local tree, doc_url, doc_method = load_document(s, url, method, params, first)
    first = false
    if tree == nil then
      return finish(s, doc_url)
    end
    s.progress = false
    local ctx = setmetatable({
      call = call, url = doc_url, method = doc_method,
      _params = pack_params(params), document = tree,
    }, ctx_mt)
    sessions[ctx] = s
    params = nil
    prefetch_document(s, ctx, tree)
    local outcome = run_nodes(s, ctx, tree.children or {})
    if type(outcome) ~= "table" then
      return finish(s, outcome)
    end
    if s.progress then
      s.redirects = 0
    end
    s.redirects = s.redirects + 1
    if s.redirects > s.max_redirects then
      notify(s, codes.TOO_MANY_REDIRECTS, "error",
        ("more than %d documents in a row ran no verb but a redirect")
          :format(s.max_redirects), outcome.url, outcome.method)
      return finish(s, "failed")
    end
    url, method, extra = outcome.url, outcome.method, outcome.params
  end
end

return rcml
