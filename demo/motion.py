"""The demo city's year in motion (issue 17 item 7): work under way on a first visit, written through the
same services the pages use (so every step has its event, audit entry and notice):

- an open exchange plan for this year with proposals of the principal's school: proposed, approved by the
  district, and one returned (EX-8);
- a county (县级) backbone round of the district in its notice (公示) period, with one objection from the
  public holding its candidate (BB-3);
- recognition claims (学时认定) of the demo teacher at each step: waiting for the school, waiting for the
  district, returned, approved (posted to the ledger) and refused (SPEC §4);
- notices for the demo users (the claim notices are sent here directly, as the after-commit hook would).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import islice

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from backbone.models import Application, ApplicationStatus, SelectionRound, Tier, Type
from backbone.objections import objection_submit
from backbone.selectors import check_teacher
from backbone.services import application_apply, application_recommend, round_open, round_start_notice
from bureau.choices import Role, Status
from bureau.models import Notice, School, Teacher
from bureau.services import ApplicationError, notice_send, user_assign_role
from credits.claims import ClaimFields, claim_notify, claim_submit, claim_transition
from credits.models import ClaimEvent
from exchange.models import ExchangePlan, Form
from exchange.selectors import eligible_teachers, receiving_suggestions
from exchange.services import plan_open, proposal_create, proposal_transition

# The smallest file the evidence check takes as a PDF (it reads the content, not the name).
DEMO_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _users() -> dict:
    User = get_user_model()
    return {u.username: u for u in User.objects.filter(username__in=["admin", "bureau", "district", "principal", "teacher"])}


@transaction.atomic
def build_demo_motion(*, today: dt.date) -> dict:
    users = _users()
    principal_school = users["principal"].profile.school
    counts = {
        "proposals": _exchange(users, principal_school, today),
        "applications": _backbone(users, principal_school, today),
        "claims": _claims(users, today),
    }
    _notices(users, today)
    counts["notices"] = Notice.objects.count()
    return counts


# --- Exchange: an open plan with proposals ---------------------------------------------------------


def _exchange(users, school: School, today: dt.date) -> int:
    plan = plan_open(year=today.year, actor=users["bureau"])
    eligible = eligible_teachers(plan.year, plan.rules(), Teacher.objects.filter(school=school))[:4]
    made = 0
    for index, row in enumerate(eligible):
        teacher = Teacher.objects.select_related("school").get(pk=row.teacher_id)
        receiving = receiving_suggestions(subject=teacher.subject, home=school)
        receiving = receiving[0] if receiving else School.objects.exclude(pk=school.pk).order_by("code").first()
        form = [Form.CLUSTER, Form.RURAL_SUPPORT, Form.PARTNERSHIP, Form.CLUSTER][index]
        try:
            proposal = proposal_create(plan=plan, teacher=teacher, form=form, receiving_school=receiving,
                                       actor=users["principal"], note="演示数据：学校推荐")
        except ApplicationError:
            continue
        made += 1
        if index == 1:
            proposal_transition(proposal=proposal, action="approve", actor=users["district"], note="同意")
        elif index == 2:
            proposal_transition(proposal=proposal, action="return", actor=users["district"],
                                note="接收学校该学科不缺编，请调整接收学校后再报。")
    return made


# --- Backbone: a county round in its notice period, with an objection ------------------------------------


def _backbone(users, school: School, today: dt.date) -> int:
    round_ = round_open(year=today.year, tier=Tier.COUNTY, type_=Type.BACKBONE, places=1, actor=users["district"],
                        school_limit=2)
    pool = (Teacher.objects.filter(school=school, status=Status.ACTIVE).exclude(user__isnull=False)
            .select_related("school").order_by("staff_no"))
    # The first three who meet the criteria (BB-2), checked one by one until found.
    candidates = list(islice(
        (t for t in pool if not check_teacher(teacher=t, year=round_.year, tier=round_.tier, type_=round_.type)), 3
    ))
    User = get_user_model()
    applications = []
    for teacher in candidates:
        # Applicants need an account of their own (BB-3: the teacher applies); no password (create_user
        # without one makes it unusable), so not a login.
        user = User.objects.create_user(f"demo-{teacher.staff_no.lower()}", first_name=teacher.name)
        user_assign_role(user=user, role=Role.TEACHER, teacher=teacher, actor=users["admin"])
        applications.append(application_apply(round_=round_, actor=user))
    for index, application in enumerate(applications):
        application_recommend(application=application, recommend=index < 2, actor=users["principal"],
                              note="" if index < 2 else "本校推荐名额已满")
    if not Application.objects.filter(round=round_, status=ApplicationStatus.RECOMMENDED).exists():
        return len(applications)  # a city too small for a candidate: the round stays open
    round_start_notice(round_=round_, starts_on=today, actor=users["district"], today=today)
    first = Application.objects.filter(round=round_, status=ApplicationStatus.RECOMMENDED).order_by("pk").first()
    objection_submit(application=first, text="反映该教师近两年承担公开课情况与申报材料不一致，请核实。",
                     contact="", today=today)
    return len(applications)


# --- Claims: one at each review step ------------------------------------------------------------------


def _claims(users, today: dt.date) -> int:
    teacher_user, principal, district = users["teacher"], users["principal"], users["district"]
    teacher = Teacher.objects.get(user=teacher_user)
    now = timezone.now()
    plan = [
        # (title, organiser, days ago, hours, then: the steps taken)
        ("全国中小学教师信息素养提升研修", "国家智慧教育平台", 40, "20", []),
        ("湖南省乡村教师课堂教学改进工作坊", "湖南师范大学继续教育学院", 55, "16", ["school_approve"]),
        ("新课标背景下的单元教学设计", "岳阳市教育学会", 70, "12", ["school_return"]),
        ("心理健康教育骨干教师研修", "湖南省中小学心理健康教育中心", 90, "24", ["school_approve", "district_approve"]),
        ("书法教育教师培训（线上）", "某教育科技有限公司", 110, "30", ["school_approve", "district_reject"]),
    ]
    reasons = {
        "school_return": "请补传结业证书盖章页。",
        "district_reject": "主办单位不属于认可的培训机构，学时不予认定。",
    }
    reviewer = {"school_approve": principal, "school_return": principal, "district_approve": district,
                "district_reject": district}
    made = 0
    for number, (title, organiser, days_ago, hours, steps) in enumerate(plan, start=1):
        ended = today - dt.timedelta(days=days_ago)
        if ended.year != today.year:
            ended = dt.date(today.year, 1, 2 + number * 3) if today >= dt.date(today.year, 1, 20) else ended
        fields = ClaimFields(title=title, organiser=organiser, started_on=ended - dt.timedelta(days=4), ended_on=ended,
                             hours=Decimal(hours), mode="网络研修" if number % 2 else "集中面授", theme="学科教学",
                             certificate_no=f"DEMO-{today.year}-{number:03d}")
        claim = claim_submit(teacher=teacher, fields=fields, actor=teacher_user, now=now,
                             files=[SimpleUploadedFile(f"结业证书{number}.pdf", DEMO_PDF, "application/pdf")])
        for action in steps:
            claim = claim_transition(claim=claim, action=action, actor=reviewer[action],
                                     reason=reasons.get(action, ""), now=now)
        made += 1
        # The after-commit hook sends these once the transaction ends; sent here too (idempotent by key),
        # so the notices are there even when seed_demo runs inside a transaction (the tests).
        for event in ClaimEvent.objects.filter(claim=claim).order_by("pk"):
            claim_notify(claim_id=claim.pk, event_id=event.pk)
    return made


# --- Notices ---------------------------------------------------------------------------------------------


def _notices(users, today: dt.date) -> int:
    plan = ExchangePlan.objects.filter(year=today.year).first()
    round_ = SelectionRound.objects.filter(year=today.year, status="notice").first()
    sent = 0
    for name in ("principal", "teacher", "district"):
        sent += notice_send(recipient=users[name], key=f"demo:welcome:{today.year}",
                            title="欢迎试用教师发展平台（演示数据）",
                            body="这是一座演示城市：数据为随机生成，可以放心尝试各项操作。", link=reverse("home"))
    if plan is not None:
        sent += notice_send(recipient=users["principal"], key=f"demo:exchange:{plan.pk}",
                            title=f"{plan.year} 年度交流轮岗计划已发起，请提出本校交流人选",
                            body="市教育局已发起本年度交流轮岗计划。", link=reverse("exchange:school"))
    if round_ is not None:
        for name in ("principal", "teacher"):
            sent += notice_send(recipient=users[name], key=f"demo:round:{round_.pk}",
                                title=f"{round_.year} 年{round_.tier}{round_.type}评选进入公示",
                                body=f"公示期至 {round_.notice_ends_on:%Y-%m-%d}，如有异议可在公示页提交。",
                                link=reverse("backbone:notice", args=[round_.pk]))
    return sent

