-- 1: foundation: schema bookkeeping, metadata, accounts.
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE accounts (
  sid TEXT PRIMARY KEY,
  parent_sid TEXT REFERENCES accounts(sid),
  email_address TEXT NOT NULL UNIQUE COLLATE NOCASE,
  friendly_name TEXT,
  type TEXT NOT NULL DEFAULT 'Full',
  status TEXT NOT NULL DEFAULT 'active',
  role TEXT,
  auth_token TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL);
CREATE INDEX accounts_parent ON accounts(parent_sid)
