-- 5: call detail records, one row per call leg (Restcomm's Calls): an
-- inbound call and the legs its <Dial> made (parent_call_sid links them).
-- Times are seconds since the epoch; start_time is when the leg began
-- (INVITE received or sent), end_time when it ended; duration is the
-- talk time (answer to end) and ring_duration the time before the answer
-- (or before the end, for a leg never answered). The table is written by
-- the call module and read by the REST API; accounts are not a foreign
-- key so that records outlive closed accounts.
CREATE TABLE calls (
  sid TEXT PRIMARY KEY,
  parent_call_sid TEXT,
  account_sid TEXT NOT NULL,
  instance_id TEXT,
  phone_number_sid TEXT,
  sender TEXT NOT NULL DEFAULT '',
  recipient TEXT NOT NULL DEFAULT '',
  caller_name TEXT,
  forwarded_from TEXT,
  status TEXT NOT NULL,
  direction TEXT NOT NULL,
  answered_by TEXT,
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  start_time INTEGER,
  end_time INTEGER,
  duration INTEGER,
  ring_duration INTEGER,
  price TEXT,
  price_unit TEXT NOT NULL DEFAULT 'USD',
  sip_call_id TEXT,
  conference_sid TEXT,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL);
CREATE INDEX calls_account ON calls(account_sid);
CREATE INDEX calls_parent ON calls(parent_call_sid);
CREATE INDEX calls_status ON calls(status)
