sip.outbound_proxy = "sip:127.0.0.1:@AUX_PORT@"
calls.api_rate = 4
