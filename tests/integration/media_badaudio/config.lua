media.cache_dir = "@TMP@/media-cache"
media.max_file_bytes = 100000
