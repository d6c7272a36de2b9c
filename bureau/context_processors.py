from .models import Notice


def notices(request):
    """The unread count in the page header: one small indexed query per page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": Notice.objects.filter(recipient=user, read_at__isnull=True).count()}
