-- 12: calls a crash interrupted (issue 23). end_reason says why a call
-- record was closed by something other than the call itself: NULL for a
-- call that ended normally, 'interrupted' for one the server's previous
-- run left live (it died with the call up; the next start closed the
-- record with the last moment the server was known alive). call_dialogs
-- holds, per leg whose INVITE dialog is established, what a BYE in that
-- dialog needs, so that the next run can hang up the far end; a row
-- lives from the dialog's establishment to the leg's end.
ALTER TABLE calls ADD COLUMN end_reason TEXT;
CREATE TABLE call_dialogs (
  call_sid TEXT PRIMARY KEY,
  sip_call_id TEXT NOT NULL,
  outgoing INTEGER NOT NULL,
  local_party TEXT NOT NULL,
  remote_party TEXT NOT NULL,
  remote_target TEXT NOT NULL,
  route_set TEXT,
  local_cseq INTEGER NOT NULL,
  destination TEXT,
  date_created INTEGER NOT NULL)
