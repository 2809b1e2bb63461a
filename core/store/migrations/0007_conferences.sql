-- 7: conferences and their participants, written by the call module's
-- rooms through conference_store.h and served as the Conferences and
-- Participants resources (Restcomm's fields, and Twilio's region,
-- reason_conference_ended and call_sid_ending_conference).
--
-- A conference row is one room's life: init (created, waiting for a
-- member who starts it), in-progress, completed. Completed rows are kept
-- for the history; so are the participants who left (status completed).
-- Dates are seconds since the epoch. Accounts are not a foreign key: the
-- history outlives a closed account. region is always NULL: one server
-- has no region (Twilio's field, kept so the table mirrors the resource).
CREATE TABLE conferences (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'init'
    CHECK (status IN ('init', 'in-progress', 'completed')),
  api_version TEXT NOT NULL DEFAULT '2012-04-24',
  region TEXT,
  reason_conference_ended TEXT,
  call_sid_ending_conference TEXT,
  date_created INTEGER NOT NULL,
  date_updated INTEGER);
CREATE INDEX conferences_account ON conferences(account_sid, date_created);
CREATE INDEX conferences_name ON conferences(account_sid, friendly_name);
CREATE INDEX conferences_status ON conferences(account_sid, status);
-- A row written without date_updated (tools, imports) gets date_created.
CREATE TRIGGER conferences_date_updated AFTER INSERT ON conferences
WHEN NEW.date_updated IS NULL
BEGIN
  UPDATE conferences SET date_updated = NEW.date_created WHERE sid = NEW.sid;
END;

-- One row per call and conference: a call that leaves and joins the same
-- room again keeps its row (connected again), one that joins another
-- room gets a second row. sid is the participant's SID in Restcomm's
-- sense, its call's SID (Restcomm renders a participant as its Call);
-- it is computed, so the REST layer can key rows by it like any other
-- resource (a call is in one room at a time, but may have rows in
-- several). The flags are 0 or 1.
CREATE TABLE participants (
  call_sid TEXT NOT NULL,
  conference_sid TEXT NOT NULL,
  account_sid TEXT NOT NULL,
  muted INTEGER NOT NULL DEFAULT 0,
  hold INTEGER NOT NULL DEFAULT 0,
  start_conference_on_enter INTEGER NOT NULL DEFAULT 1,
  end_conference_on_exit INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'connected'
    CHECK (status IN ('connected', 'completed')),
  date_created INTEGER NOT NULL,
  date_updated INTEGER,
  sid TEXT GENERATED ALWAYS AS (call_sid) VIRTUAL,
  PRIMARY KEY (conference_sid, call_sid));
CREATE INDEX participants_call ON participants(call_sid);
CREATE INDEX participants_status ON participants(conference_sid, status);
CREATE TRIGGER participants_date_updated AFTER INSERT ON participants
WHEN NEW.date_updated IS NULL
BEGIN
  UPDATE participants SET date_updated = NEW.date_created
  WHERE conference_sid = NEW.conference_sid AND call_sid = NEW.call_sid;
END
