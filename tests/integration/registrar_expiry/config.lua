sip.min_expires = 2
sip.max_expires = 120
