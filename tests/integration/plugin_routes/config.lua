plugins.paths = { "@TMP@/plugins" }
