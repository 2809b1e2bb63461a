-- 4: SIP registrations: the registrar's location service, one row per
-- binding of a client login to a contact. The source address and transport
-- are where the REGISTER came from (received/rport), so requests reach
-- clients behind NAT. Deleting a client removes its bindings.
CREATE TABLE registrations (
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL COLLATE NOCASE,
  client_sid TEXT REFERENCES clients(sid) ON DELETE CASCADE,
  contact TEXT NOT NULL,
  instance TEXT,
  reg_id INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL,
  source_ip TEXT NOT NULL,
  source_port INTEGER NOT NULL,
  transport TEXT NOT NULL,
  user_agent TEXT,
  call_id TEXT NOT NULL,
  cseq INTEGER NOT NULL,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL);
CREATE INDEX registrations_login ON registrations(login);
CREATE INDEX registrations_expires ON registrations(expires_at);
CREATE INDEX registrations_client ON registrations(client_sid)
