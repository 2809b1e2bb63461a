# Media engine: pure parts (G.711, RTP, RFC 4733, rewriting, SDP,
# offer/answer) and the relay over real sockets on 127.0.0.1.
sb_unit_test(test_media SOURCES unit/test_media.c LIBS sb_media)
sb_unit_test(test_media_relay SOURCES unit/test_media_relay.c LIBS sb_media)
sb_unit_test(test_media_play SOURCES unit/test_media_play.c LIBS sb_media m)
# Recording, in-band DTMF and the tap: what a phone says.
sb_unit_test(test_media_listen SOURCES unit/test_media_listen.c LIBS sb_media m)
# Conference rooms: three phones with three tones.
sb_unit_test(test_media_mixer SOURCES unit/test_media_mixer.c LIBS sb_media m)
# Decoding (libsndfile writes the fixtures in memory) and text-to-speech.
pkg_check_modules(SB_TEST_SNDFILE REQUIRED IMPORTED_TARGET sndfile)
sb_unit_test(test_media_audio SOURCES unit/test_media_audio.c
             LIBS sb_media_dsp PkgConfig::SB_TEST_SNDFILE m)
sb_unit_test(test_media_tts SOURCES unit/test_media_tts.c LIBS sb_media_dsp m)
# The audio cache, with a fake fetcher at its seam and the real decoder.
sb_unit_test(test_media_cache SOURCES unit/test_media_cache.c
             LIBS sb_media_dsp m)
# Speech recognition: pocketsphinx on speech from our own TTS.
sb_unit_test(test_media_asr SOURCES unit/test_media_asr.c
             LIBS sb_media_asr sb_media_dsp m)
