-- 2: REST API resources: applications and SIP clients.
--
-- Clients are read by the registrar (core/sip) for digest authentication:
-- ha1_md5 and ha1_sha256 are the hex digests of "login:realm:password"
-- with realm = the configured SIP domain; the plain password is never
-- stored. A login is unique in the (single) SIP domain.
CREATE TABLE applications (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL REFERENCES accounts(sid),
  friendly_name TEXT NOT NULL,
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  voice_caller_id_lookup INTEGER NOT NULL DEFAULT 0,
  rcml_url TEXT,
  kind TEXT,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL);
CREATE INDEX applications_account ON applications(account_sid);

CREATE TABLE clients (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL REFERENCES accounts(sid),
  login TEXT NOT NULL UNIQUE COLLATE NOCASE,
  friendly_name TEXT,
  status INTEGER NOT NULL DEFAULT 1,
  ha1_md5 TEXT NOT NULL,
  ha1_sha256 TEXT NOT NULL,
  voice_url TEXT,
  voice_method TEXT,
  voice_fallback_url TEXT,
  voice_fallback_method TEXT,
  voice_application_sid TEXT REFERENCES applications(sid) ON DELETE SET NULL,
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL);
CREATE INDEX clients_account ON clients(account_sid);
CREATE INDEX clients_application ON clients(voice_application_sid)
