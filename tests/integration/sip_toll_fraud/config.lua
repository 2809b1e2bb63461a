sip.outbound_proxy = "sip:127.0.0.1:@AUX_PORT@"
-- No trusted peer: every caller on 127.0.0.1 is a stranger.
sip.trusted = {}
