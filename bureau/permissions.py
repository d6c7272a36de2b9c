"""Role gates for pages (the rows each role sees come from scoping.py)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .scoping import role_of


def role_required(*roles):
    """Allow the listed roles; anonymous users go to the login page, other roles get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if role_of(request.user) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        # the menus ask the same question before they show a link (bureau.templatetags.menu)
        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator


def view_allows(view, role) -> bool:
    """Whether `role_required` on `view` (or on what it wraps, kept by functools.wraps) lets `role` in;
    a view without a role gate lets every signed-in user in."""
    allowed = getattr(view, "allowed_roles", None)
    return allowed is None or role in allowed
