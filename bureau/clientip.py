"""SEC-5: the client address every rate limit and lockout keys on.

Behind the city's reverse proxy every request comes from the proxy's address, so keying on REMOTE_ADDR
gives the whole city one allowance. Each trusted proxy appends the address it was connected from to
X-Forwarded-For; with TRUSTED_PROXY_COUNT proxies in front of the app, the client is the entry that many
places from the right. Entries further left were written by the client and are never trusted. With no
trusted proxy (the default) the header is ignored: anyone can send it.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if trusted <= 0:
        return remote
    hops = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(hops) < trusted:  # did not come through every trusted proxy: only the connection is known
        return remote
    candidate = hops[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
