"""Per-user cached pages: the busiest pages (the teacher portal, the school dashboard) are rendered once
per version of everything they show and served from the cache until one of those versions moves.

A page qualifies when all it shows is covered by version counters (bureau.versions): the signed-in user
and the menu (bureau.auth.user_version_keys), the header's unread count (notice_version_key) and the
page's own figures. Pages carry no per-request token (the menu's 退出 leads to a confirmation form), and
a request with a one-time message waiting is rendered afresh, so nothing shown differs between a cached
and a fresh rendering. Measured for PERF-4: rendering was about a third of such a page's cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from . import versions
from .auth import user_version_keys
from .context_processors import notice_version_key


def render_cached(
    request, template_name: str, *, key: str, version_keys: Sequence[str], context: Callable[[], dict], timeout: int
) -> HttpResponse:
    """`render(request, template_name, context())`, cached under `key` for this user until one of
    `version_keys` (or the user, or their notices) changes, at most `timeout` seconds."""
    if get_messages(request):  # a message to show once: not from (nor into) the cache
        return render(request, template_name, context())
    user_id = request.user.pk
    body = versions.cached(
        f"page.{user_id}.{key}",
        [*user_version_keys(user_id), notice_version_key(user_id), *version_keys],
        lambda: render_to_string(template_name, context(), request),
        timeout,
    )
    return HttpResponse(body)
