"""Staff pages of a selection round (BB-3 amended): open a round, then run each step on screen — notice,
objections, review scores (typed or a score sheet), the quota-respecting shortlist, the trainees' training
assessment and the award. Bureau staff run any round, a district's staff their county rounds; auditors
read. Every step goes through a service; the page shows what it said."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bureau.choices import Role
from bureau.importing import SpreadsheetError, run_import
from bureau.params import path_text
from bureau.permissions import role_required
from bureau.scoping import role_of
from bureau.services import ApplicationError
from bureau.spreadsheets import CellError, as_date, as_decimal

from . import objections as objection_services
from . import rules, services
from .forms import QuotaFormSet, RoundOpenForm
from .imports import ScoreImporter
from .models import Application, ApplicationStatus, Objection, RosterEntry, RoundStatus
from .selectors import may_run_round, rounds_seen_by

STAFF = (Role.BUREAU, Role.DISTRICT)
READERS = (Role.BUREAU, Role.DISTRICT, Role.AUDITOR)
STEP_LABELS = {"open": "发起评选", **{action: step.label for action, step in rules.ROUND_TRANSITIONS.items()}}
LISTED = [ApplicationStatus.APPLIED, ApplicationStatus.NOT_RECOMMENDED]  # not yet (or never) candidates


def _round(request, pk: int):
    return get_object_or_404(rounds_seen_by(request.user).select_related("district"), pk=pk)


def _date(value: str, default):
    if not value:
        return default
    try:
        return as_date(path_text(value))
    except CellError:
        raise ApplicationError("日期格式应为 YYYY-MM-DD。") from None


def _run(request, pk: int, step) -> object:
    """Call one step of a round for the staff who run it; ApplicationError becomes the page's message."""
    round_ = _round(request, pk)
    try:
        done = step(round_)
        if done:
            messages.success(request, done)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("backbone:manage-round", pk=round_.pk)


@role_required(*READERS)
def manage(request):
    """The rounds the user runs (or, for auditors, reads), and the form to open one."""
    today = timezone.localdate()
    form = quotas = None
    if role_of(request.user) in STAFF:
        form = RoundOpenForm(request.POST or None, user=request.user, today=today)
        quotas = QuotaFormSet(request.POST or None, prefix="quota", form_kwargs={"user": request.user})
        if request.method == "POST" and form.is_valid() and quotas.is_valid():
            data = form.cleaned_data
            rows = [(q["district"], q["subject"], q["places"]) for q in quotas.cleaned_data if q and q.get("places")]
            try:
                round_ = services.round_open(
                    year=data["year"], tier=data["tier"], type_=data["type"], places=data["places"],
                    school_limit=data["school_limit"], notice_working_days=data["notice_working_days"],
                    district=data.get("district"), quotas=rows, actor=request.user)
                messages.success(request, f"已发起{round_}。")
                return redirect("backbone:manage-round", pk=round_.pk)
            except ApplicationError as exc:
                messages.error(request, str(exc))
    elif request.method == "POST":
        raise PermissionDenied
    rounds = (rounds_seen_by(request.user).select_related("district")
              .annotate(candidates=Count("applications", filter=~Q(applications__status__in=LISTED)))
              .order_by("-year", "-created_at"))
    return render(request, "backbone/manage.html", {"rounds": rounds, "form": form, "quotas": quotas})


@role_required(*READERS)
def manage_round(request, pk: int):
    round_ = _round(request, pk)
    applications = list(
        round_.applications.select_related("teacher", "school")
        .prefetch_related(Prefetch("objections", queryset=Objection.objects.select_related("recorded_by", "resolved_by")))
        .order_by("status", "-score", "school__code", "teacher__staff_no"))
    for a in applications:
        a.open_objections = [o for o in a.objections.all() if o.is_open]
    objections = [o for a in applications for o in a.objections.all()]
    objections.sort(key=lambda o: (not o.is_open, o.created_at))
    return render(request, "backbone/manage_round.html", {
        "round": round_, "applications": applications, "objections": objections,
        "objectable": [a for a in applications if a.status in objection_services.OBJECTABLE],
        "quotas": round_.quotas.select_related("district").order_by("district__code", "subject"),
        "events": [(e, STEP_LABELS.get(e.action, e.action)) for e in round_.events.select_related("actor")
                   .order_by("created_at", "pk")],
        "entries": RosterEntry.objects.filter(round=round_).select_related("teacher").order_by("certificate_no"),
        "may_run": may_run_round(request.user, round_), "today": timezone.localdate(),
        "Status": RoundStatus, "candidates": sum(a.status not in LISTED for a in applications),
    })


@require_POST
@role_required(*STAFF)
def round_notice(request, pk: int):
    def step(round_):
        starts_on = _date(request.POST.get("starts_on", ""), timezone.localdate())
        round_ = services.round_start_notice(round_=round_, starts_on=starts_on, actor=request.user)
        unknown = rules.unknown_calendar_years(round_.notice_starts_on, round_.notice_ends_on)
        if unknown:
            return (f"已发布公示，公示期至 {round_.notice_ends_on:%Y-%m-%d}。注意：{'、'.join(map(str, unknown))}"
                    "年的法定节假日安排尚未收录，该年按周一至周五计算工作日，请核对公示结束日期。")
        return f"已发布公示，公示期至 {round_.notice_ends_on:%Y-%m-%d}。"
    return _run(request, pk, step)


@require_POST
@role_required(*STAFF)
def round_review(request, pk: int):
    def step(round_):
        services.round_start_review(round_=round_, today=timezone.localdate(), actor=request.user)
        return "公示期已满，开始评审。"
    return _run(request, pk, step)


@role_required(*READERS)
def round_scores(request, pk: int):
    """The scoring page: one score per candidate, typed, or a score sheet (工号, 姓名, 评审得分) imported."""
    round_ = _round(request, pk)
    may_run = may_run_round(request.user, round_)
    if request.method == "POST" and not may_run:
        raise PermissionDenied
    candidates = list(round_.applications.filter(status=ApplicationStatus.RECOMMENDED)
                      .select_related("teacher", "school").order_by("school__code", "teacher__staff_no"))
    errors: list[str] = []
    if request.method == "POST":
        scores = {}
        for application in candidates:
            raw = request.POST.get(f"score-{application.pk}", "").strip()
            try:
                scores[application.pk] = as_decimal(raw, places=2) if raw else None
            except CellError as exc:
                errors.append(f"{application.teacher.name}：{exc}")
        if not errors:
            try:
                changed = services.review_score(round_=round_, scores=scores, actor=request.user)
                messages.success(request, f"已保存得分（{changed} 人有变化）。")
                return redirect("backbone:round-scores", pk=round_.pk)
            except ApplicationError as exc:
                errors.append(str(exc))
    return render(request, "backbone/scores.html", {"round": round_, "candidates": candidates, "errors": errors,
                                                    "may_run": may_run, "report": None})


@require_POST
@role_required(*STAFF)
def round_scores_import(request, pk: int):
    round_ = _round(request, pk)
    upload = request.FILES.get("file")
    report, errors = None, []
    if not may_run_round(request.user, round_):
        errors.append("只有组织本次评选的教育局可以评分。")
    elif round_.status != RoundStatus.REVIEW:
        errors.append(services.ROUND_REFUSAL.format(state=round_.get_status_display()))
    elif upload is None:
        errors.append("请选择评审得分表（xlsx）。")
    else:
        importer = ScoreImporter(round_=round_, actor=request.user, today=timezone.localdate())
        try:
            report = run_import(importer, upload, filename=upload.name)
            if report.written:
                messages.success(request, f"已导入评审得分：{report.summary()}")
                return redirect("backbone:round-scores", pk=round_.pk)
        except (SpreadsheetError, ApplicationError) as exc:
            errors.append(str(exc))
    candidates = list(round_.applications.filter(status=ApplicationStatus.RECOMMENDED)
                      .select_related("teacher", "school").order_by("school__code", "teacher__staff_no"))
    return render(request, "backbone/scores.html", {"round": round_, "candidates": candidates, "errors": errors,
                                                    "may_run": True, "report": report}, status=400)


@require_POST
@role_required(*STAFF)
def round_shortlist(request, pk: int):
    def step(round_):
        trainees = services.review_select(round_=round_, actor=request.user)
        return f"已确定入围名单：{len(trainees)} 人为培养对象。"
    return _run(request, pk, step)


@require_POST
@role_required(*STAFF)
def round_award(request, pk: int):
    def step(round_):
        awarded_on = _date(request.POST.get("awarded_on", ""), timezone.localdate())
        entries = services.round_award(round_=round_, awarded_on=awarded_on, actor=request.user)
        return f"已认定 {len(entries)} 人，名册已更新。"
    return _run(request, pk, step)


def _application(request, pk: int) -> Application:
    return get_object_or_404(Application.objects.filter(round__in=rounds_seen_by(request.user))
                             .select_related("round", "teacher"), pk=pk)


@require_POST
@role_required(*STAFF)
def trainee_assess(request, pk: int):
    application = _application(request, pk)
    try:
        passed = request.POST.get("decision") == "pass"
        services.training_assess(application=application, passed=passed, reason=request.POST.get("reason", ""),
                                 actor=request.user)
        messages.success(request, f"已登记{application.teacher.name}的培养考核：{'合格' if passed else '不合格，淘汰'}。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("backbone:manage-round", pk=application.round_id)


@require_POST
@role_required(*STAFF)
def objection_record(request, pk: int):
    round_ = _round(request, pk)
    chosen = request.POST.get("application", "")
    application = round_.applications.select_related("teacher").filter(pk=chosen if chosen.isdigit() else 0).first()
    if application is None:
        messages.error(request, "请选择异议针对的候选人。")
        return redirect("backbone:manage-round", pk=round_.pk)
    try:
        objection_services.objection_record(application=application, text=request.POST.get("text", ""),
                                            contact=request.POST.get("contact", ""), actor=request.user)
        messages.success(request, f"已登记对{application.teacher.name}的异议，处理前该候选人暂缓入围和认定。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("backbone:manage-round", pk=round_.pk)


@require_POST
@role_required(*STAFF)
def objection_resolve(request, pk: int):
    objection = get_object_or_404(Objection.objects.filter(application__round__in=rounds_seen_by(request.user))
                                  .select_related("application__teacher"), pk=pk)
    try:
        upheld = request.POST.get("finding") == "upheld"
        objection_services.objection_resolve(objection=objection, upheld=upheld,
                                             resolution=request.POST.get("resolution", ""), actor=request.user,
                                             now=timezone.now())
        teacher = objection.application.teacher.name
        messages.success(request, f"异议成立，已取消{teacher}的资格。" if upheld else f"异议不成立，{teacher}继续参加评选。")
    except ApplicationError as exc:
        messages.error(request, str(exc))
    return redirect("backbone:manage-round", pk=objection.application.round_id)
