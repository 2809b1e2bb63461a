#!/usr/bin/env bash
# setup.sh: provisions the Alice/Bob/Carol example through the REST API of
# a server started with switchboard.conf.lua (and app.py on 8090):
#   clients bob, carol and alice (passwords below);
#   application B (RcmlUrl http://127.0.0.1:8090/b);
#   number 1000 = A: voice http://127.0.0.1:8090/a, Refer application B.
# Safe to run again: what exists is found and brought up to date, not
# created twice. API and APP name other addresses than the defaults:
#   API=http://127.0.0.1:8081/restcomm/2012-04-24 APP=http://127.0.0.1:8091 ./setup.sh
set -euo pipefail
api=${API:-http://127.0.0.1:8080/restcomm/2012-04-24}
app_base=${APP:-http://127.0.0.1:8090}
auth=(-u "admin@example.com:Example-Admin-Pw1")
# curl that fails, showing the server's answer, on an HTTP error.
rest() { curl -sS --fail-with-body "${auth[@]}" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

ac=$(rest "$api/Accounts.json/admin@example.com" | json 'd["sid"]')
# Creating a Login the account already has answers that client (200).
for c in alice:Alice-Example-Pw1 bob:Bob-Example-Pw1 carol:Carol-Example-Pw1; do
  rest -o /dev/null "$api/Accounts/$ac/Clients.json" -d "Login=${c%%:*}" -d "Password=${c#*:}"
done
# Application B: the one named B, else a new one.
app=$(rest "$api/Accounts/$ac/Applications.json" |
      json 'next((a["sid"] for a in d if a["friendly_name"] == "B"), "")')
if [ -z "$app" ]; then
  app=$(rest "$api/Accounts/$ac/Applications.json" -d FriendlyName=B \
          --data-urlencode "RcmlUrl=$app_base/b" | json 'd["sid"]')
else
  rest -o /dev/null "$api/Accounts/$ac/Applications/$app.json" \
    --data-urlencode "RcmlUrl=$app_base/b"
fi
# Number 1000: updated when it exists, else created.
pn=$(rest "$api/Accounts/$ac/IncomingPhoneNumbers.json?PhoneNumber=1000" |
     json 'next((n["sid"] for n in d["incomingPhoneNumbers"] if n["phone_number"] == "1000"), "")')
if [ -z "$pn" ]; then
  url="$api/Accounts/$ac/IncomingPhoneNumbers.json"
  set -- -d PhoneNumber=1000 -d isSIP=true
else
  url="$api/Accounts/$ac/IncomingPhoneNumbers/$pn.json"
  set --
fi
rest "$url" "$@" --data-urlencode "VoiceUrl=$app_base/a" -d "ReferApplicationSid=$app" |
  python3 -m json.tool | grep -E '"(sid|phone_number|refer_application_sid)"'
echo "ready: register alice, bob and carol at sip:127.0.0.1:5080, then alice calls 1000"
