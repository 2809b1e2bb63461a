recordings.dir = "@TMP@/rec"
