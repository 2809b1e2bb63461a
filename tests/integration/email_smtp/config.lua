email.smtp_url = "smtp://127.0.0.1:@AUX_PORT@"
email.from = "switchboard@example.com"
