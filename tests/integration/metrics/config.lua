sip.outbound_proxy = "sip:127.0.0.1:@AUX_PORT@"
