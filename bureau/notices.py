"""The notice inbox: each user sees and clears their own notices."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .models import Notice


@login_required
def inbox(request):
    notices = Notice.objects.filter(recipient=request.user)[:100]
    return render(request, "bureau/notices.html", {"notices": notices})


@require_POST
@login_required
def mark_read(request, pk: int):
    notice = get_object_or_404(Notice, pk=pk, recipient=request.user)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return redirect(notice.link or "notices")
