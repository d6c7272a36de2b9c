"""名额分配 page: the organiser splits a project's seats among districts, district staff among schools."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from bureau.choices import Role
from bureau.models import District, School
from bureau.permissions import role_required
from bureau.scoping import profile_of, role_of
from bureau.services import ApplicationError

from . import rules
from .models import Enrolment, Project, ProjectShare
from .shares import share_set


@role_required(Role.BUREAU, Role.DISTRICT, Role.AUDITOR)
def shares(request, pk: int):
    project = get_object_or_404(Project, pk=pk)
    role = role_of(request.user)
    if role == Role.DISTRICT:
        units = [("s", school) for school in School.objects.filter(district_id=profile_of(request.user).district_id).order_by("code")]
    else:
        units = [("d", district) for district in District.objects.order_by("code")]
    current = {(("d", s.district_id) if s.district_id else ("s", s.school_id)): s.seats
               for s in ProjectShare.objects.filter(project=project)}
    approved = {}
    for school_id, district_id in Enrolment.objects.filter(project=project, state__in=rules.APPROVED_STATES).values_list(
            "teacher__school_id", "teacher__school__district_id"):
        approved[("s", school_id)] = approved.get(("s", school_id), 0) + 1
        approved[("d", district_id)] = approved.get(("d", district_id), 0) + 1
    if request.method == "POST":
        if role == Role.AUDITOR:
            raise PermissionDenied
        try:
            with transaction.atomic():
                for kind, unit in units:
                    raw = request.POST.get(f"{kind}-{unit.pk}", "").strip()
                    if raw == "" and (kind, unit.pk) not in current:
                        continue
                    if not raw.isdigit():
                        raise ApplicationError(f"{unit.name} 的名额应为非负整数。")
                    if current.get((kind, unit.pk)) != int(raw):
                        share_set(project=project, seats=int(raw), actor=request.user,
                                  **({"district": unit} if kind == "d" else {"school": unit}))
        except ApplicationError as exc:
            messages.error(request, f"未保存：{exc}")
        else:
            messages.success(request, "名额分配已保存。")
            return redirect("training:shares", pk=project.pk)
    rows = [{"key": f"{kind}-{unit.pk}", "unit": unit, "seats": current.get((kind, unit.pk)),
             "approved": approved.get((kind, unit.pk), 0)} for kind, unit in units]
    parent = None
    if role == Role.DISTRICT:
        parent = current.get(("d", profile_of(request.user).district_id))
    return render(request, "training/shares.html", {
        "project": project, "rows": rows, "parent": parent, "can_edit": role != Role.AUDITOR,
        "released": rules.released(release_on=project.shares_release_on, today=timezone.localdate()),
    })
