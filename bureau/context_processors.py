from . import versions
from .models import Notice


def notice_version_key(user_id) -> str:
    return f"bureau.notice.v.{user_id}"


def _count_unread(user_id: int) -> int:
    return Notice.objects.filter(recipient_id=user_id, read_at__isnull=True).count()  # index notice_unread


def unread_notices(user_id: int) -> int:
    """The header's unread count, cached until a notice of the user is sent, read or deleted."""
    return versions.cached(
        f"bureau.unread.{user_id}", [notice_version_key(user_id)], lambda: _count_unread(user_id), 600
    )


def notices(request):
    """The unread count in the page header, looked up only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": lambda: unread_notices(user.pk)}
