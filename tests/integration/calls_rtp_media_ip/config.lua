sip.outbound_proxy = "sip:127.0.0.1:@AUX_PORT@"
media.bind_ip = "127.0.0.2"
media.ip = "127.0.0.2"
