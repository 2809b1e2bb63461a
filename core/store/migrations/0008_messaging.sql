-- 8: messaging (issue 19). sms_messages holds every SMS the server
-- handled: sent over REST or by <Sms>, received by a number, or passed
-- between two Clients. email_messages records every e-mail sent over SMTP
-- (REST Email/Messages and <Email>).
--
-- status: queued, sending, sent, delivered, undelivered, failed, received.
-- direction: inbound, outbound-api, outbound-call, outbound-reply.
-- Dates are seconds since the epoch; date_sent is NULL until sent.
-- status_callback is POSTed on every change of status after queued.
-- smsc_id is the SMSC's message id (submit_sm_resp), so that a delivery
-- receipt finds its message. Accounts are not a foreign key: the history
-- outlives a closed account.
CREATE TABLE sms_messages (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  sender TEXT NOT NULL DEFAULT '',
  recipient TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'queued',
  direction TEXT NOT NULL DEFAULT 'outbound-api',
  price TEXT,
  price_unit TEXT NOT NULL DEFAULT 'USD',
  error_code INTEGER,
  error_message TEXT,
  num_segments INTEGER NOT NULL DEFAULT 1,
  call_sid TEXT,
  status_callback TEXT,
  status_callback_method TEXT,
  smsc_id TEXT,
  date_sent INTEGER,
  date_created INTEGER NOT NULL,
  date_updated INTEGER);
CREATE INDEX sms_messages_account ON sms_messages(account_sid, date_created);
CREATE INDEX sms_messages_smsc ON sms_messages(smsc_id);
-- A row written without date_updated (tools, imports) gets date_created.
CREATE TRIGGER sms_messages_date_updated AFTER INSERT ON sms_messages
WHEN NEW.date_updated IS NULL
BEGIN
  UPDATE sms_messages SET date_updated = NEW.date_created WHERE sid = NEW.sid;
END;

CREATE TABLE email_messages (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  cc TEXT,
  bcc TEXT,
  subject TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL DEFAULT 'text/plain',
  status TEXT NOT NULL DEFAULT 'queued',
  error_message TEXT,
  call_sid TEXT,
  date_sent INTEGER,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL);
CREATE INDEX email_messages_account ON email_messages(account_sid, date_created);
