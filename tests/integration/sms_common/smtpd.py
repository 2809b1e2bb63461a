#!/usr/bin/python3
"""smtpd.py: an SMTP server for the e-mail tests: aiosmtpd (Debian's
python3-aiosmtpd) on 127.0.0.1, writing each mail it accepts as a JSON
line {"mail_from", "rcpt_tos", "data"} to --log. A recipient whose address
starts with "refuse" is refused with 550. Ends after --lifetime seconds.

    smtpd.py --port P --log FILE [--lifetime S]
"""
import argparse
import json
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, log):
        self.log = log

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refuse"):
            return "550 5.1.1 mailbox refused"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with open(self.log, "a") as f:
            f.write(json.dumps({"mail_from": envelope.mail_from,
                                "rcpt_tos": envelope.rcpt_tos,
                                "data": envelope.content.decode("utf-8", "replace")}) + "\n")
        return "250 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime", type=float, default=60)
    a = p.parse_args()
    c = Controller(Handler(a.log), hostname="127.0.0.1", port=a.port)
    c.start()
    print("ready", flush=True)
    try:
        time.sleep(a.lifetime)
    finally:
        c.stop()


if __name__ == "__main__":
    main()
