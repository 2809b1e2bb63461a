-- 3: incoming phone numbers and notifications.
--
-- A phone number is unique in the (single) SIP domain. Pure-SIP numbers
-- (isSIP=true) may be regular expressions or "*" (the catch-all); the
-- number matcher (core/call) caches their compiled patterns and reloads
-- them when meta 'numbers_version' changes, which the triggers below bump
-- on every change that can alter a match.
CREATE TABLE incoming_phone_numbers (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL REFERENCES accounts(sid),
  friendly_name TEXT NOT NULL,
  phone_number TEXT NOT NULL UNIQUE,
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  voice_url TEXT,
  voice_method TEXT,
  voice_fallback_url TEXT,
  voice_fallback_method TEXT,
  status_callback TEXT,
  status_callback_method TEXT,
  voice_caller_id_lookup INTEGER NOT NULL DEFAULT 0,
  voice_application_sid TEXT REFERENCES applications(sid) ON DELETE SET NULL,
  sms_url TEXT,
  sms_method TEXT,
  sms_fallback_url TEXT,
  sms_fallback_method TEXT,
  sms_application_sid TEXT REFERENCES applications(sid) ON DELETE SET NULL,
  ussd_url TEXT,
  ussd_method TEXT,
  ussd_fallback_url TEXT,
  ussd_fallback_method TEXT,
  ussd_application_sid TEXT REFERENCES applications(sid) ON DELETE SET NULL,
  refer_url TEXT,
  refer_method TEXT,
  refer_application_sid TEXT REFERENCES applications(sid) ON DELETE SET NULL,
  voice_capable INTEGER NOT NULL DEFAULT 1,
  sms_capable INTEGER NOT NULL DEFAULT 0,
  mms_capable INTEGER NOT NULL DEFAULT 0,
  fax_capable INTEGER NOT NULL DEFAULT 0,
  pure_sip INTEGER NOT NULL DEFAULT 0,
  number_type TEXT,
  cost TEXT,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL);
-- Lists are sorted by number (default) or name within an account.
CREATE INDEX numbers_account ON incoming_phone_numbers(account_sid, phone_number);
CREATE INDEX numbers_account_name ON incoming_phone_numbers(account_sid, friendly_name);
CREATE INDEX numbers_voice_app ON incoming_phone_numbers(voice_application_sid);
CREATE INDEX numbers_sms_app ON incoming_phone_numbers(sms_application_sid);
CREATE INDEX numbers_ussd_app ON incoming_phone_numbers(ussd_application_sid);
CREATE INDEX numbers_refer_app ON incoming_phone_numbers(refer_application_sid);
CREATE INDEX numbers_pure_sip ON incoming_phone_numbers(pure_sip);

INSERT OR REPLACE INTO meta(key, value) VALUES ('numbers_version', '0');
CREATE TRIGGER numbers_version_insert AFTER INSERT ON incoming_phone_numbers
BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'numbers_version';
END;
CREATE TRIGGER numbers_version_update
AFTER UPDATE OF phone_number, pure_sip, account_sid ON incoming_phone_numbers
BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'numbers_version';
END;
CREATE TRIGGER numbers_version_delete AFTER DELETE ON incoming_phone_numbers
BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'numbers_version';
END;

-- Errors and warnings recorded by every subsystem (notify.h), served as
-- the Notifications resource. Accounts are not a foreign key: the history
-- outlives a closed account. message_date is in milliseconds.
CREATE TABLE notifications (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  call_sid TEXT,
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  log INTEGER NOT NULL,
  error_code INTEGER NOT NULL,
  more_info TEXT NOT NULL,
  message_text TEXT,
  message_date INTEGER NOT NULL,
  request_url TEXT,
  request_method TEXT,
  request_variables TEXT,
  response_headers TEXT,
  response_body TEXT,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL);
CREATE INDEX notifications_account ON notifications(account_sid, date_created);
CREATE INDEX notifications_call ON notifications(call_sid, date_created)
