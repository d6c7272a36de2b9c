"""A tiny CAS 2/3 server for the tests, a WSGI app: /cas/login redirects back to the service with a ticket
for `user` (approved at once); /cas/serviceValidate and /cas/p3/serviceValidate answer the CAS XML, each ticket
valid once and for its own service only."""

from __future__ import annotations

import secrets
from html import escape
from urllib.parse import parse_qs, urlencode

NS = 'xmlns:cas="http://www.yale.edu/tp/cas"'


class CASServer:
    def __init__(self, user: str = ""):
        self.user = user
        self.tickets: dict[str, tuple[str, str]] = {}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if path == "/cas/login" and q.get("service"):
            ticket = "ST-" + secrets.token_hex(12)
            self.tickets[ticket] = (self.user, q["service"])
            sep = "&" if "?" in q["service"] else "?"
            start_response("302 Found", [("Location", q["service"] + sep + urlencode({"ticket": ticket}))])
            return [b""]
        if path in ("/cas/serviceValidate", "/cas/p3/serviceValidate"):
            grant = self.tickets.pop(q.get("ticket", ""), None)
            if grant is None or grant[1] != q.get("service"):
                body = (f'<cas:serviceResponse {NS}><cas:authenticationFailure code="INVALID_TICKET">'
                        "ticket not recognized</cas:authenticationFailure></cas:serviceResponse>")
            else:
                user = escape(grant[0])
                body = (f"<cas:serviceResponse {NS}><cas:authenticationSuccess><cas:user>{user}</cas:user>"
                        f"<cas:attributes><cas:staffNo>{user}</cas:staffNo></cas:attributes>"
                        "</cas:authenticationSuccess></cas:serviceResponse>")
            start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
            return [body.encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
