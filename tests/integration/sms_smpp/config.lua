sms.smpp_host = "127.0.0.1"
sms.smpp_port = @AUX_PORT@
sms.smpp_system_id = "sb"
sms.smpp_password = "secret"
sms.smpp_enquire_link = 1
sms.smpp_reconnect_max = 1
