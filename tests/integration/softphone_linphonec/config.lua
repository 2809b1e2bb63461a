-- No trusted peer: every INVITE from a Client is digest-challenged (407),
-- as on a server facing real phones.
sip.trusted = {}
