sip.outbound_proxy = "sip:127.0.0.1:@AUX_PORT@"
-- No trusted peer: every caller on 127.0.0.1 is a stranger.
sip.trusted = {}
-- Restcomm's 200-OK-delay mode: the caller is answered only when a dialled
-- party answers, so a refused Dial leaves it unanswered (480).
plugins.options = { rcml = { dial = { answer_on_dial = false } } }
