sip.max_contacts = 3
