"""A tiny CAS 2/3 server for the tests, a WSGI app.

/cas/login redirects back to the service with a ticket for `user` (approved at once) and opens a CAS session
(cookie CASTGC; a live session is reused); /cas/serviceValidate and /cas/p3/serviceValidate answer the CAS
XML, each ticket valid once and for its own service only; /cas/logout ends the session of the CASTGC cookie,
sends each service it signed in to the back-channel single logout (a SAML LogoutRequest POSTed to the
service URL, form field logoutRequest, as the CAS protocol's SLO does) and goes back to `service` (CAS 3) or
`url` (CAS 2). `end_session(sid)` does the same from the server's side (an operator ending a session)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from html import escape
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode

import requests

NS = 'xmlns:cas="http://www.yale.edu/tp/cas"'


def logout_request(ticket: str) -> str:
    """The SAML LogoutRequest a CAS server POSTs for the session signed in with service ticket `ticket`."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="LR-{secrets.token_hex(8)}" Version="2.0" '
            f'IssueInstant="{now}"><saml:NameID>@NOT_USED@</saml:NameID>'
            f"<samlp:SessionIndex>{escape(ticket)}</samlp:SessionIndex></samlp:LogoutRequest>")


class CASServer:
    def __init__(self, user: str = ""):
        self.user = user
        self.tickets: dict[str, tuple[str, str]] = {}  # not yet validated: ticket -> (user, service)
        self.sessions: dict[str, dict] = {}  # CASTGC -> {"user", "services": [(ticket, service), ...]}
        self.ended: list[str] = []
        self.slo_sent: list[tuple[str, int | str]] = []  # (service, HTTP status or the error) per logout POST

    def end_session(self, sid: str) -> None:
        session = self.sessions.pop(sid, None)
        if session is None:
            return
        self.ended.append(sid)
        for ticket, service in session["services"]:
            try:
                answer = requests.post(service, data={"logoutRequest": logout_request(ticket)},
                                       allow_redirects=False, timeout=5)
                self.slo_sent.append((service, answer.status_code))
            except requests.RequestException as exc:  # a service out of reach: CAS servers carry on
                self.slo_sent.append((service, type(exc).__name__))

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        sid = cookie["CASTGC"].value if "CASTGC" in cookie else ""
        if path == "/cas/login" and q.get("service"):
            if sid not in self.sessions:
                sid = secrets.token_urlsafe(12)
                self.sessions[sid] = {"user": self.user, "services": []}
            ticket = "ST-" + secrets.token_hex(12)
            self.tickets[ticket] = (self.sessions[sid]["user"], q["service"])
            self.sessions[sid]["services"].append((ticket, q["service"]))
            sep = "&" if "?" in q["service"] else "?"
            start_response("302 Found", [("Location", q["service"] + sep + urlencode({"ticket": ticket})),
                                         ("Set-Cookie", f"CASTGC={sid}; Path=/cas/; HttpOnly")])
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
        if path == "/cas/logout":
            self.end_session(sid)
            expire = ("Set-Cookie", "CASTGC=; Path=/cas/; Max-Age=0")
            back = q.get("service") or q.get("url")
            if back:
                start_response("302 Found", [("Location", back), expire])
                return [b""]
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), expire])
            return ["已退出统一身份认证".encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
