#!/usr/bin/env bash
# setup.sh: provisions the voicemail example through the REST API of a
# server started with switchboard.conf.lua (and app.py on 8091):
#   client alice (password below), to call from;
#   number 3000: voice application http://127.0.0.1:8091/menu.
# Safe to run twice (an existing client or number is left as it is).
set -euo pipefail
api=http://127.0.0.1:8080/restcomm/2012-04-24
auth=(-u "admin@example.com:Example-Admin-Pw1")
ac=$(curl -s "${auth[@]}" "$api/Accounts.json/admin@example.com" |
     python3 -c 'import json,sys; print(json.load(sys.stdin)["sid"])')
curl -s -o /dev/null "${auth[@]}" "$api/Accounts/$ac/Clients.json" \
  -d Login=alice -d Password=Alice-Example-Pw1
curl -s -o /dev/null "${auth[@]}" "$api/Accounts/$ac/IncomingPhoneNumbers.json" \
  -d PhoneNumber=3000 -d isSIP=true \
  --data-urlencode "VoiceUrl=http://127.0.0.1:8091/menu"
echo "ready: register alice at sip:127.0.0.1:5080 (password Alice-Example-Pw1), then call 3000"
echo "messages: curl -s -u admin@example.com:Example-Admin-Pw1 $api/Accounts/$ac/Recordings.json"
