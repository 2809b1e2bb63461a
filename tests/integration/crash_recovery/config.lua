-- The dialled number's leg goes to a sipp callee through the outbound
-- proxy (run.sh listens there).
sip.outbound_proxy = "sip:127.0.0.1:@AUX_PORT@"
