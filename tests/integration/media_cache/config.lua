media.cache_dir = "@TMP@/media-cache"
media.threads = 2
