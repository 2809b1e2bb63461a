#!/usr/bin/env python3
"""register.py LOGIN PASSWORD PORT [EXPIRES]: registers LOGIN's contact
sip:LOGIN@127.0.0.1:PORT with the server (SB_SIP_PORT) from that very port,
answering the digest challenge, then frees the port for a sipp UAS that
plays the client. Exits 0 on a 200, 1 otherwise. Uses
registrar_common/sipreg.py."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "registrar_common"))
import sipreg  # noqa: E402


def main():
    login, password, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    expires = sys.argv[4] if len(sys.argv) > 4 else "300"
    ua = sipreg.Client(sipreg.env_port(), login, password)
    ua.sock.close()
    ua.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ua.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ua.sock.bind(("127.0.0.1", port))
    ua.sock.settimeout(5.0)
    ua.local_port = port
    r = ua.register(expires=expires)
    ua.close()
    if r.status != 200:
        sys.stderr.write("register.py: %s got %d %s\n" % (login, r.status, r.phrase))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
