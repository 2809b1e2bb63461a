-- The ivr-hello example: shipped plugins only (Say, Play, Pause,
-- Redirect). Run from the repository root:
--   build/switchboard -c examples/ivr-hello/switchboard.conf.lua
sip.listen = { "udp:127.0.0.1:5080", "tcp:127.0.0.1:5080" }
http.listen = "127.0.0.1:8080"
store.path = "./ivr-hello.db"
admin.email = "admin@example.com"
admin.password = "Example-Admin-Pw1"
plugins.paths = { "plugins" }
media.cache_dir = "./ivr-hello-media-cache"
