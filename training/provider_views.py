"""Bureau staff's page of provider records held for review (issue 19 item 1): each matches a recognition
claim or an existing result of the same teacher (training.provider_holds); release posts it (training.providers.provider_record_release), reject keeps it
out of the ledger with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bureau.choices import Role
from bureau.permissions import role_required
from bureau.services import ApplicationError

from .models import ProviderRecord, ProviderRecordState
from .providers import provider_record_reject, provider_record_release

PAGE_LENGTH = 200  # oldest first; the rest follow as these are decided


@role_required(Role.BUREAU)
def provider_held(request):
    held = (ProviderRecord.objects.filter(state=ProviderRecordState.HELD)
            .select_related("provider", "project", "teacher", "teacher__school", "claim", "result__enrolment__project").order_by("created_at", "id"))
    return render(request, "training/provider_held.html",
                  {"held": held[:PAGE_LENGTH], "total": held.count(), "page_length": PAGE_LENGTH})


@require_POST
@role_required(Role.BUREAU)
def provider_record_decide(request, pk: int):
    action, reason = request.POST.get("action"), request.POST.get("reason", "")
    try:
        if action == "release":
            provider_record_release(record_id=pk, actor=request.user, reason=reason)
            messages.success(request, "已放行，考核结果已登记。")
        elif action == "reject":
            provider_record_reject(record_id=pk, actor=request.user, reason=reason)
            messages.success(request, "已驳回，该记录不登记学分。")
        else:
            messages.error(request, "请选择放行或驳回。")
    except ProviderRecord.DoesNotExist:
        messages.error(request, "该记录不存在。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("training:provider-held")
