-- The voicemail example: shipped plugins only (Gather, Say, Record, Play).
-- Run from the repository root:
--   build/switchboard -c examples/voicemail/switchboard.conf.lua
sip.listen = { "udp:127.0.0.1:5080", "tcp:127.0.0.1:5080" }
http.listen = "127.0.0.1:8080"
store.path = "./voicemail.db"
admin.email = "admin@example.com"
admin.password = "Example-Admin-Pw1"
plugins.paths = { "plugins" }
media.cache_dir = "./voicemail-media-cache"
recordings.dir = "./voicemail-recordings"
