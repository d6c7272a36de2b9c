"""Per-user cached pages: the busiest pages (the teacher portal, the school dashboard) are rendered once
per version of everything they show and served from the cache until one of those versions moves.

A page qualifies when all it shows is covered by version counters (bureau.versions): the signed-in user
and the menu (bureau.auth.user_version_keys), the header's unread count (notice_version_key) and the
page's own figures. Pages carry no per-request token (the menu's 退出 leads to a confirmation form), and
a request with a one-time message waiting is rendered afresh, so nothing shown differs between a cached
and a fresh rendering. Measured for PERF-4: rendering was about a third of such a page's cost.

`@cached_page` goes one step further: when this process has already rendered the page for the session's
user, it checks the stored page against the current versions straight from the session's user id,
before the user is loaded or the view runs. That is safe because the user's own version counters are
among those checked and the page is stored under the versions the user was loaded under: the stored
page was rendered by the view, permission check included, for the very same state of the user (role,
scope, active); and the session must carry the password hash the page was rendered for, as
django.contrib.auth's own check of the session would require.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare

from . import versions
from .auth import user_version_keys
from .context_processors import notice_version_key

# (user id, page key) -> the version keys the page was last rendered under, in this process. Only a
# shortcut: a missing or outdated entry means the view runs as usual. Bounded by clearing when full.
_rendered_under: dict[tuple[str, str], list[str]] = {}
MAX_REMEMBERED = 10_000


def _page_key(user_id, key: str) -> str:
    return f"page.{user_id}.{key}"


def cached_page(key: Callable[..., str]):
    """Serve a page of a view that ends in `render_cached` straight from the cache when it is current.
    `key(request, *args, **kwargs)` names the page for one user (e.g. the portal of one year)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            request.cached_page_key = page = key(request, *args, **kwargs)
            response = _stored_page(request, page)
            return response if response is not None else view(request, *args, **kwargs)

        return wrapped

    return decorator


def _stored_page(request, page: str) -> HttpResponse | None:
    """The page as stored for the session's user, if it is current and the session is still good:
    what django.contrib.auth.get_user would check (a known backend, the password hash the session was
    signed in with) plus the user's own version counters (active, role, scope)."""
    session = request.session
    user_id = session.get(SESSION_KEY)
    if user_id is None or session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return None
    remembered = _rendered_under.get((str(user_id), page))
    if remembered is None or get_messages(request):
        return None
    stored, _ = versions.fetch(_page_key(user_id, page), remembered)
    if stored is None:
        return None
    password_hash, body = stored
    if not constant_time_compare(session.get(HASH_SESSION_KEY, ""), password_hash):
        return None
    return HttpResponse(body)


def render_cached(
    request, template_name: str, *, version_keys: Sequence[str], context: Callable[[], dict], timeout: int
) -> HttpResponse:
    """`render(request, template_name, context())`, cached for this user until one of `version_keys`
    (or the user, or their notices) changes, at most `timeout` seconds; the page is named by the view's
    `@cached_page`. Stored under the user versions the request's user was loaded under, so a change to
    the user committed during this request retires the page at once."""
    if get_messages(request):  # a message to show once: not from (nor into) the cache
        return render(request, template_name, context())
    user = request.user
    keys = [*user_version_keys(user.pk), notice_version_key(user.pk), *version_keys]
    password_hash, body = versions.cached(
        _page_key(user.pk, request.cached_page_key), keys,
        lambda: (user.get_session_auth_hash(), render_to_string(template_name, context(), request)),
        timeout, pinned=getattr(user, "auth_versions", None),
    )
    if len(_rendered_under) >= MAX_REMEMBERED:
        _rendered_under.clear()
    _rendered_under[(str(user.pk), request.cached_page_key)] = keys
    return HttpResponse(body)
