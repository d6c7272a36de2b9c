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
among those checked: the stored page was rendered by the view, permission check included, for the
very same state of the user (role, scope, active, password), so the view would answer the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps

from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

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
            user_id = request.session.get(SESSION_KEY)
            remembered = _rendered_under.get((str(user_id), page)) if user_id is not None else None
            if remembered is not None and not get_messages(request):
                found = cache.get_many([_page_key(user_id, page), *remembered])
                entry = found.get(_page_key(user_id, page))
                if entry is not None and entry[0] == tuple(found.get(k, 0) for k in remembered):
                    return HttpResponse(entry[1])
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def render_cached(
    request, template_name: str, *, version_keys: Sequence[str], context: Callable[[], dict], timeout: int
) -> HttpResponse:
    """`render(request, template_name, context())`, cached for this user until one of `version_keys`
    (or the user, or their notices) changes, at most `timeout` seconds; the page is named by the view's
    `@cached_page`."""
    if get_messages(request):  # a message to show once: not from (nor into) the cache
        return render(request, template_name, context())
    user_id = request.user.pk
    keys = [*user_version_keys(user_id), notice_version_key(user_id), *version_keys]
    body = versions.cached(
        _page_key(user_id, request.cached_page_key), keys, lambda: render_to_string(template_name, context(), request),
        timeout,
    )
    if len(_rendered_under) >= MAX_REMEMBERED:
        _rendered_under.clear()
    _rendered_under[(str(user_id), request.cached_page_key)] = keys
    return HttpResponse(body)
