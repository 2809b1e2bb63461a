-- The Alice/Bob/Carol transfer example: shipped plugins only (the default
-- transfer handler and the Visual Designer substitution). Run from the
-- repository root:
--   build/switchboard -c examples/transfer-abc/switchboard.conf.lua
sip.listen = { "udp:127.0.0.1:5080", "tcp:127.0.0.1:5080" }
http.listen = "127.0.0.1:8080"
store.path = "./transfer-abc.db"
admin.email = "admin@example.com"
admin.password = "Example-Admin-Pw1"
plugins.paths = { "plugins" }
