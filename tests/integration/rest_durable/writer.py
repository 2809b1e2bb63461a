#!/usr/bin/env python3
"""writer.py BASE USER PASSWORD ACCOUNT DB SECONDS PID: REST writes while
calls come and go. For SECONDS it creates Applications one after another
(one keep-alive connection); as soon as each 201 arrives it looks for the
new row through a connection of its own to the database, which sees only
committed transactions. Then one more write, and SIGKILL to the server
(PID) the moment its answer is read. Prints "answered N", "unseen M"
(answers that came before their commit) and writes the answered SIDs to
stdout, one per line after a line "sids"."""
import base64, http.client, json, os, signal, sqlite3, sys, time, urllib.parse

base, user, pw, account, db, secs, pid = sys.argv[1:8]
u = urllib.parse.urlparse(base)
auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
path = f"{u.path}/Accounts/{account}/Applications.json"
sids, unseen = [], []


def create(i):
    body = urllib.parse.urlencode({"FriendlyName": f"durable-{i}",
                                   "RcmlUrl": "http://127.0.0.1/x.xml"})
    conn.request("POST", path, body, {"Authorization": auth,
                 "Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    data = r.read()
    return r.status, data


end = time.time() + float(secs)
i = 0
while time.time() < end:
    status, data = create(i)
    i += 1
    if status not in (200, 201):
        print("status", status, data[:200])
        sys.exit(1)
    sid = json.loads(data)["sid"]
    sids.append(sid)
    if ro.execute("SELECT count(*) FROM applications WHERE sid = ?", (sid,)).fetchone()[0] != 1:
        unseen.append(sid)
status, data = create(i)
os.kill(int(pid), signal.SIGKILL)
if status in (200, 201):
    sids.append(json.loads(data)["sid"])
print("answered", len(sids))
print("unseen", len(unseen))
print("sids")
for s in sids:
    print(s)
