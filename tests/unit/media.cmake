# Media engine: pure parts (G.711, RTP, RFC 4733, rewriting, SDP,
# offer/answer) and the relay over real sockets on 127.0.0.1.
sb_unit_test(test_media SOURCES unit/test_media.c LIBS sb_media)
sb_unit_test(test_media_relay SOURCES unit/test_media_relay.c LIBS sb_media)
