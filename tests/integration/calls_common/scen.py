#!/usr/bin/env python3
"""scen.py TEMPLATE OUT [KEY=VALUE ...]: fills a sipp scenario template.

Every @KEY@ becomes VALUE (defaults below); a line that held only
placeholders and ends up blank is dropped, so an optional header can be
left out without ending the header block early.
"""
import re
import sys

DEFAULTS = {
    "LPORT": "6000",
    "CODECS": "0 101",
    "RTPMAP": "a=rtpmap:0 PCMU/8000",
    "HOLD": "1000",
    "TALK": "",
    "XHDR": "",
    "CODE": "404",
    "RING": "500",
    "TIMEOUT": "15000",
    "LOGIN": "alice",
    "PASSWORD": "",
    "EXPIRES": "300",
    "MF": "70",
    "BODY": "",
    "CONTACT": "Contact: <sip:bob@[local_ip]:[local_port]>",
    "USER": "+131313",
    "TARGET": "sip:alice@[remote_ip]:[remote_port]",
    "FINAL": "200",
    "REASON": ".",
    "GRACE": "4000",
}


def main():
    tmpl, out = sys.argv[1], sys.argv[2]
    values = dict(DEFAULTS)
    for kv in sys.argv[3:]:
        k, v = kv.split("=", 1)
        values[k] = v
    lines = []
    for line in open(tmpl).read().split("\n"):
        had = "@" in line
        new = re.sub(r"@([A-Z_]+)@", lambda m: values.get(m.group(1), m.group(0)), line)
        if had and line.strip() and not new.strip():
            continue
        lines.append(new)
    open(out, "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
