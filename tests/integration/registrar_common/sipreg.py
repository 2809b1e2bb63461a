"""sipreg.py: a tiny SIP REGISTER client for the registrar's integration
tests (and bench helpers). It speaks UDP or TCP to 127.0.0.1 only, computes
Digest responses (MD5 and SHA-256, qop=auth) itself, and lets a test send
deliberately broken requests. Python standard library only.

Not a test by itself: tests/integration/registrar_*/ scripts import it.
"""
import hashlib
import os
import random
import re
import socket
import string
import time


def _rand(n=10):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def H(alg, text):
    h = hashlib.sha256 if alg.upper() == "SHA-256" else hashlib.md5
    return h(text.encode()).hexdigest()


def parse_challenge(value):
    """'Digest realm="x", nonce="y", ...' -> dict of lowercased names."""
    assert value.lower().startswith("digest "), value
    out = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)=("((?:[^"\\]|\\.)*)"|[^,\s]+)', value[7:]):
        out[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return out


class Response:
    def __init__(self, raw):
        self.raw = raw
        head = raw.split("\r\n\r\n", 1)[0]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1])
        self.phrase = parts[2] if len(parts) > 2 else ""
        self.headers = []
        compact = {"m": "contact", "v": "via", "f": "from", "t": "to", "i": "call-id"}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                k = k.strip().lower()
                self.headers.append((compact.get(k, k), v.strip()))

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    def get(self, name):
        v = self.all(name)
        return v[0] if v else None

    def contacts(self):
        """Every Contact value (headers may hold comma-separated lists)."""
        out = []
        for v in self.all("contact"):
            out += [c.strip() for c in re.split(r",(?=\s*<)", v) if c.strip()]
        return out

    def __repr__(self):
        return "<%d %s>" % (self.status, self.phrase)


class Client:
    """One UA: a socket, a login, a Call-ID and a CSeq counter."""

    def __init__(self, port, login, password=None, domain="127.0.0.1",
                 transport="udp", host="127.0.0.1", timeout=5.0, call_id=None,
                 local_ip="127.0.0.1"):
        self.port = port
        self.local_ip = local_ip
        self.host = host
        self.login = login
        self.password = password
        self.domain = domain
        self.transport = transport
        self.timeout = timeout
        self.call_id = call_id or _rand(16) + "@sipreg"
        self.cseq = 0
        self.tag = _rand(8)
        self.nc = 0
        self.challenge = None
        if transport == "tcp":
            self.sock = socket.create_connection((host, port), timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((local_ip, 0))
            self.sock.settimeout(timeout)
        self.local_port = self.sock.getsockname()[1]
        self.buf = b""

    def close(self):
        self.sock.close()

    def contact_uri(self, user=None):
        return "sip:%s@%s:%d;transport=%s" % (user or self.login, self.local_ip,
                                              self.local_port, self.transport)

    def send_raw(self, text):
        data = text.encode() if isinstance(text, str) else text
        if self.transport == "tcp":
            self.sock.sendall(data)
        else:
            self.sock.sendto(data, (self.host, self.port))

    def _recv_one(self):
        if self.transport != "tcp":
            data, _ = self.sock.recvfrom(65535)
            return data.decode(errors="replace")
        while True:
            if b"\r\n\r\n" in self.buf:
                head, rest = self.buf.split(b"\r\n\r\n", 1)
                m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                n = int(m.group(1)) if m else 0
                if len(rest) >= n:
                    self.buf = rest[n:]
                    return (head + b"\r\n\r\n" + rest[:n]).decode(errors="replace")
            chunk = self.sock.recv(65535)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk

    def recv_final(self, branch=None):
        """The next final response (skips 1xx), optionally for one branch."""
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            r = Response(self._recv_one())
            if r.status < 200:
                continue
            if branch and branch not in (r.get("via") or ""):
                continue
            return r
        raise TimeoutError("no final response")

    def request(self, method="REGISTER", expires=None, contacts=None, auth=None,
                extra=(), ruri=None, to_user=None, cseq=None, body=""):
        """Builds and sends one request; returns (text, branch)."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        ruri = ruri or "sip:%s" % self.domain
        branch = "z9hG4bK" + _rand(12)
        to_user = to_user or self.login
        lines = [
            "%s %s SIP/2.0" % (method, ruri),
            "Via: SIP/2.0/%s %s:%d;branch=%s;rport" % (self.transport.upper(),
                                                       self.local_ip, self.local_port,
                                                       branch),
            "Max-Forwards: 70",
            "From: <sip:%s@%s>;tag=%s" % (self.login, self.domain, self.tag),
            "To: <sip:%s@%s>" % (to_user, self.domain),
            "Call-ID: %s" % self.call_id,
            "CSeq: %d %s" % (cseq, method),
            "User-Agent: sipreg.py",
        ]
        if contacts is None and method == "REGISTER":
            contacts = ["<%s>" % self.contact_uri()]
        for c in contacts or []:
            lines.append("Contact: %s" % c)
        if expires is not None:
            lines.append("Expires: %s" % expires)
        if auth:
            lines.append("Authorization: %s" % auth)
        lines += list(extra)
        lines.append("Content-Length: %d" % len(body.encode()))
        text = "\r\n".join(lines) + "\r\n\r\n" + body
        self.send_raw(text)
        return text, branch

    def transact(self, **kw):
        _, branch = self.request(**kw)
        return self.recv_final(branch)

    def digest(self, chal, method="REGISTER", uri=None, password=None, nc=None,
               username=None, cnonce=None, alg=None):
        """The Authorization value answering challenge dict chal."""
        alg = alg or chal.get("algorithm", "MD5")
        uri = uri or "sip:%s" % self.domain
        if nc is None:
            self.nc += 1
            nc = self.nc
        ncs = "%08x" % nc
        cnonce = cnonce or _rand(12)
        user = username or self.login
        pw = self.password if password is None else password
        ha1 = H(alg, "%s:%s:%s" % (user, chal["realm"], pw))
        ha2 = H(alg, "%s:%s" % (method, uri))
        resp = H(alg, "%s:%s:%s:%s:auth:%s" % (ha1, chal["nonce"], ncs, cnonce, ha2))
        return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", '
                'response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s"'
                % (user, chal["realm"], chal["nonce"], uri, resp, alg, ncs, cnonce))

    def challenges(self, resp):
        return [parse_challenge(v) for v in resp.all("www-authenticate")]

    def pick(self, resp, alg="MD5"):
        for c in self.challenges(resp):
            if c.get("algorithm", "MD5").upper() == alg.upper():
                self.challenge = c
                self.nc = 0
                return c
        raise AssertionError("no %s challenge in %r" % (alg, resp.all("www-authenticate")))

    def register(self, expires=None, alg="MD5", contacts=None, password=None, extra=()):
        """Full exchange: unauthenticated REGISTER, 401, then credentials.
        Returns the final response to the authenticated request."""
        r = self.transact(expires=expires, contacts=contacts, extra=extra)
        if r.status != 401:
            return r
        chal = self.pick(r, alg)
        return self.transact(expires=expires, contacts=contacts, extra=extra,
                             auth=self.digest(chal, password=password))


def ha1_hex(login, realm, password):
    return (hashlib.md5(("%s:%s:%s" % (login, realm, password)).encode()).hexdigest(),
            hashlib.sha256(("%s:%s:%s" % (login, realm, password)).encode()).hexdigest())


def env_port():
    return int(os.environ["SB_SIP_PORT"])
