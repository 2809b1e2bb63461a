-- No trusted peer and no outbound proxy: a number is dialled through the
-- server itself.
sip.trusted = {}
