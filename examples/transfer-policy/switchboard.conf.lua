-- Switchboard with the transfer policy of this folder in front of the
-- shipped plugins. Run from the repository root:
--   build/switchboard -c examples/transfer-policy/switchboard.conf.lua
sip.listen = { "udp:127.0.0.1:5080", "tcp:127.0.0.1:5080" }
sip.outbound_proxy = "sip:127.0.0.1:5070"
http.listen = "127.0.0.1:8080"
store.path = "./transfer-policy.db"
plugins.paths = { "examples/transfer-policy/plugins", "plugins" }
plugins.options = {
  refer_policy = {
    allow = { "alice", "carol", "1%d%d%d" },   -- two clients, extensions 1000-1999
    hours = { from = 8, to = 18 },
    days = { 1, 2, 3, 4, 5 },
  },
}
