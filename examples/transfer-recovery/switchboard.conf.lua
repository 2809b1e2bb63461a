-- Switchboard with the recovery REFER handler of this folder in front of
-- the shipped plugins. Run from the repository root:
--   build/switchboard -c examples/transfer-recovery/switchboard.conf.lua
sip.listen = { "udp:127.0.0.1:5080", "tcp:127.0.0.1:5080" }
sip.outbound_proxy = "sip:127.0.0.1:5070"
http.listen = "127.0.0.1:8080"
store.path = "./transfer-recovery.db"
plugins.paths = { "examples/transfer-recovery/plugins", "plugins" }
plugins.options = {
  refer_recovery = { timeout = 20, kind = "client" },
}
