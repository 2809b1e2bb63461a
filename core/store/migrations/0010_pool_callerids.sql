-- 10: the remaining REST resources of issue 21 (docs/rest.md).
--
-- number_pool: the numbers an operator offers for sale, one row per
-- number, replaced as a whole from the file named by numbers.pool
-- (core/api/pool.c) at start-up and whenever that file changes. A number
-- is "available" while no IncomingPhoneNumber has it: taken follows the
-- incoming_phone_numbers table through the triggers below, so listing
-- the available numbers is one indexed read and never a join.
-- number_type: local, tollfree or mobile. iso_country: two upper-case
-- letters. The capabilities are 0/1.
CREATE TABLE number_pool (
  phone_number TEXT PRIMARY KEY,
  iso_country TEXT NOT NULL,
  number_type TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  voice_capable INTEGER NOT NULL DEFAULT 1,
  sms_capable INTEGER NOT NULL DEFAULT 0,
  mms_capable INTEGER NOT NULL DEFAULT 0,
  fax_capable INTEGER NOT NULL DEFAULT 0,
  region TEXT,
  postal_code TEXT,
  locality TEXT,
  taken INTEGER NOT NULL DEFAULT 0);
CREATE INDEX number_pool_search ON number_pool(iso_country, number_type, taken);
-- A number loaded while already bought starts out taken.
CREATE TRIGGER number_pool_loaded AFTER INSERT ON number_pool
WHEN EXISTS (SELECT 1 FROM incoming_phone_numbers WHERE phone_number = NEW.phone_number)
BEGIN
  UPDATE number_pool SET taken = 1 WHERE phone_number = NEW.phone_number;
END;
CREATE TRIGGER number_pool_bought AFTER INSERT ON incoming_phone_numbers
BEGIN
  UPDATE number_pool SET taken = 1 WHERE phone_number = NEW.phone_number;
END;
CREATE TRIGGER number_pool_released AFTER DELETE ON incoming_phone_numbers
BEGIN
  UPDATE number_pool SET taken = 0 WHERE phone_number = OLD.phone_number;
END;

-- OutgoingCallerIds (Restcomm's fields; sid prefix PN as Restcomm's).
-- Unique per account and number, so the same number is not verified twice.
CREATE TABLE outgoing_caller_ids (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  phone_number TEXT NOT NULL,
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL,
  UNIQUE (account_sid, phone_number));

-- Transcriptions of recordings (sid prefix TR). Nothing writes them yet:
-- the resource lists an empty table until transcription exists. status:
-- in-progress, completed or failed; duration in seconds as Restcomm's
-- double; price as text ("-0.05000"), NULL when unknown.
CREATE TABLE transcriptions (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  recording_sid TEXT,
  status TEXT NOT NULL DEFAULT 'in-progress',
  duration REAL NOT NULL DEFAULT 0,
  transcription_text TEXT,
  price TEXT,
  price_unit TEXT NOT NULL DEFAULT 'USD',
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL);
CREATE INDEX transcriptions_account ON transcriptions(account_sid, date_created);
CREATE INDEX transcriptions_recording ON transcriptions(recording_sid);

-- Calls are listed newest first (Restcomm's order): an account's page is
-- then an index walk instead of a sort of all its calls (bench/rest/
-- dialects.sh: the first page of 100,000 calls).
CREATE INDEX calls_account_created ON calls(account_sid, date_created);
