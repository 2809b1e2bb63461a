-- 6: recordings made by RCML <Record>, <Dial record="true"> and (later)
-- conferences: one row per audio file, written by the call module through
-- recording_store.h and served as the Recordings resource (Restcomm's
-- fields, and Twilio's channels, source, status, start_time,
-- conference_sid, error_code, price).
--
-- duration is in seconds, fractional (Restcomm writes it as a Java double:
-- "3.0"). start_time and the dates are seconds since the epoch. file_name
-- is the WAV file inside recordings.dir (a plain name, no folder); NULL
-- means "<sid>.wav". The MP3 made on first request sits next to it as
-- "<sid>.mp3". Uri and FileUri are derived from the SIDs when rendered.
-- Accounts are not a foreign key: the history outlives a closed account.
CREATE TABLE recordings (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  call_sid TEXT,
  conference_sid TEXT,
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  duration REAL NOT NULL DEFAULT 0,
  channels INTEGER NOT NULL DEFAULT 1,
  source TEXT NOT NULL DEFAULT 'RecordVerb',
  status TEXT NOT NULL DEFAULT 'completed',
  start_time INTEGER,
  error_code INTEGER,
  price TEXT,
  price_unit TEXT NOT NULL DEFAULT 'USD',
  file_name TEXT,
  date_created INTEGER NOT NULL,
  date_updated INTEGER);
CREATE INDEX recordings_account ON recordings(account_sid, date_created);
CREATE INDEX recordings_call ON recordings(call_sid, date_created);
-- A row written without date_updated (tools, imports) gets date_created.
CREATE TRIGGER recordings_date_updated AFTER INSERT ON recordings
WHEN NEW.date_updated IS NULL
BEGIN
  UPDATE recordings SET date_updated = NEW.date_created WHERE sid = NEW.sid;
END
