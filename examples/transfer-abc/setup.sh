#!/usr/bin/env bash
# setup.sh: provisions the Alice/Bob/Carol example through the REST API of
# a server started with switchboard.conf.lua (and app.py on 8090):
#   clients bob, carol and alice (passwords below);
#   application B (RcmlUrl http://127.0.0.1:8090/b);
#   number 1000 = A: voice http://127.0.0.1:8090/a, Refer application B.
set -euo pipefail
api=http://127.0.0.1:8080/restcomm/2012-04-24
auth=(-u "admin@example.com:Example-Admin-Pw1")
ac=$(curl -s "${auth[@]}" "$api/Accounts.json/admin@example.com" |
     python3 -c 'import json,sys; print(json.load(sys.stdin)["sid"])')
for c in alice:Alice-Example-Pw1 bob:Bob-Example-Pw1 carol:Carol-Example-Pw1; do
  curl -s -o /dev/null "${auth[@]}" "$api/Accounts/$ac/Clients.json" \
    -d "Login=${c%%:*}" -d "Password=${c#*:}"
done
app=$(curl -s "${auth[@]}" "$api/Accounts/$ac/Applications.json" -d FriendlyName=B \
        --data-urlencode "RcmlUrl=http://127.0.0.1:8090/b" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["sid"])')
curl -s "${auth[@]}" "$api/Accounts/$ac/IncomingPhoneNumbers.json" -d PhoneNumber=1000 \
  -d isSIP=true --data-urlencode "VoiceUrl=http://127.0.0.1:8090/a" \
  -d "ReferApplicationSid=$app" | python3 -m json.tool | grep -E '"(sid|phone_number|refer_application_sid)"'
echo "ready: register alice, bob and carol at sip:127.0.0.1:5080, then alice calls 1000"
