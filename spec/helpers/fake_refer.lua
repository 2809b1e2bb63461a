-- A REFER event double for specs (the C one is "sb.refer"): the fields a
-- refer hook reads, and accept / reject / notify recorded in ev.actions.
--
--   local ev = fake_refer.new{ target = "alice", number = { refer_url = "http://a/2222" } }
--   ev.transferor_call, ev.transferee_call   fake_call objects (new ones
--                                            unless given; nil when
--                                            transferee = false)

local fake_call = require "helpers.fake_call"

local fake_refer = {}

local ev_mt = {}
ev_mt.__index = ev_mt

function fake_refer.new(opts)
  opts = opts or {}
  local transferor = opts.transferor_call or fake_call.new({
    sid = "ID0-CAtransferor", answered = true, from = "bob", to = "+131313",
    direction = "outbound-dial",
  })
  local transferee = opts.transferee_call
  if transferee == nil then
    transferee = fake_call.new({ sid = "ID0-CAtransferee", answered = true })
  elseif transferee == false then
    transferee = nil
  end
  local target = opts.target or "alice"
  local number = opts.number
  if number == nil then
    number = { sid = "PN1", phone_number = "1111", account_sid = "AC1",
               refer_url = "http://app/2222", refer_method = "GET" }
  elseif number == false then
    number = nil
  end
  return setmetatable({
    transferor = opts.transferor or "+131313",
    transferee = opts.transferee or "bob",
    target = target,
    refer_to = opts.refer_to or { uri = "sip:" .. target .. "@127.0.0.1", scheme = "sip",
                                  user = target, host = "127.0.0.1" },
    refer_to_sip = opts.refer_to_sip ~= false,
    referred_by = opts.referred_by,
    subscription = opts.subscription ~= false,
    transferor_sid = transferor and transferor.sid,
    transferee_sid = transferee and transferee.sid,
    transferor_call = transferor,
    transferee_call = transferee,
    call = transferee,
    number = number,
    headers = opts.headers or {},
    answered = false,
    accepted = false,
    actions = {},
  }, ev_mt)
end

function ev_mt:accept()
  if self.answered then
    return nil, "state"
  end
  self.answered, self.accepted = true, true
  table.insert(self.actions, { "accept" })
  return true
end

function ev_mt:reject(status, reason)
  assert(type(status) == "number" and status >= 400 and status <= 699,
    "sb.refer:reject: SIP status 400..699 expected")
  if self.answered then
    return nil, "state"
  end
  self.answered = true
  table.insert(self.actions, { "reject", status, reason })
  return true
end

function ev_mt:notify(status, reason)
  assert(type(status) == "number", "sb.refer:notify: status expected")
  if not self.accepted then
    return nil, "state"
  end
  table.insert(self.actions, { "notify", status, reason })
  return true
end

-- The actions as "accept", "reject 404", "notify 200", in order.
function ev_mt:summary()
  local out = {}
  for _, a in ipairs(self.actions) do
    out[#out + 1] = a[2] and (a[1] .. " " .. a[2]) or a[1]
  end
  return out
end

return fake_refer
