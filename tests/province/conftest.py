"""A small city for the province report (SPEC §7 上报省厅) of 2026."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from backbone.models import RosterEntry, RosterEvent
from bureau.services import user_assign_role
from credits.models import Source
from credits.posting import Posting, ledger_sync
from exchange.models import ExchangePlan, Proposal
from tests.factories import DistrictFactory, SchoolFactory, TeacherFactory, UserFactory, make_id_number
from training.models import Project
from training.services import result_record

YEAR = 2026
A1_ID = make_id_number(dt.date(1985, 3, 14), male=False, serial=7)


def make_project(code, level, mode, hours, **over):
    values = dict(code=code, name=f"{level}项目{code}", level=level, mode=mode, kind="必修", theme="学科教学",
                  hours=D(hours), start_on=dt.date(2026, 1, 1), end_on=dt.date(2026, 12, 31), organiser="承办单位",
                  status="running")
    values.update(over)
    return Project.objects.create(**values)


def post(teacher, key, day, hours, source, *, mode="", project_code="", actor=None):
    with transaction.atomic():
        ledger_sync(source_key=key, wanted=Posting(teacher_id=teacher.pk, entry_date=day, hours=D(hours),
                                                   credits=D(hours), source=source, mode=mode,
                                                   project_code=project_code),
                    actor=actor, reason="测试")


def full_id_user(username="keeper"):
    user = UserFactory(username=username)
    user_assign_role(user=user, role="bureau", actor=None)
    user.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    return type(user).objects.get(pk=user.pk)  # a fresh instance: no stale permission cache


@pytest.fixture
def province_city(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    clerk = UserFactory(username="clerk")
    user_assign_role(user=clerk, role="bureau", actor=None)
    d1, d2 = DistrictFactory(code="D1", name="城东区"), DistrictFactory(code="D2", name="城西区")
    s1 = SchoolFactory(code="S1", name="东一小学", district=d1, location="城区")
    s2 = SchoolFactory(code="S2", name="东二小学", district=d1, location="乡村", is_weak=True)
    s3 = SchoolFactory(code="S3", name="西一中学", district=d2, location="镇区", stage="初中")
    a1 = TeacherFactory(staff_no="A1", name="=1+2", school=s1, id_number=A1_ID, title="高级教师")
    b1 = TeacherFactory(staff_no="B1", name="李一", school=s2, gender="男",
                        id_number=make_id_number(dt.date(1985, 3, 14), male=True, serial=8))
    b2 = TeacherFactory(staff_no="B2", name="王二", school=s2, employment_type="特岗")
    # hired in 2026: not subject to the 2026 check (CR-4), not eligible for exchange (EX-1)
    c1 = TeacherFactory(staff_no="C1", name="赵三", school=s3, employed_on=dt.date(2026, 3, 1),
                        joined_school_on=dt.date(2026, 3, 1))

    national = make_project("P-N", "国培", "集中面授", 24)
    provincial = make_project("P-P", "省培", "网络研修", 10)
    municipal = make_project("P-C", "市培", "混合式", 8)
    old = make_project("P-OLD", "县培", "集中面授", 6)
    result_record(project=national, teacher=a1, grade="合格", completed_on=dt.date(2026, 3, 1), certified_hours=None,
                  actor=clerk)
    result_record(project=national, teacher=c1, grade="不合格", completed_on=dt.date(2026, 3, 1),
                  certified_hours=None, actor=clerk)
    result_record(project=provincial, teacher=a1, grade="优秀", completed_on=dt.date(2026, 4, 1),
                  certified_hours=None, actor=clerk)
    result_record(project=municipal, teacher=a1, grade="合格", completed_on=dt.date(2026, 5, 1), certified_hours=None,
                  actor=clerk)
    # certified hours lowered: a reversal of 8 and a new row of 5 (CR-2); the sum counts the reversal
    result_record(project=municipal, teacher=a1, grade="合格", completed_on=dt.date(2026, 5, 1),
                  certified_hours=D(5), actor=clerk)
    result_record(project=old, teacher=a1, grade="合格", completed_on=dt.date(2025, 6, 1), certified_hours=None,
                  actor=clerk)
    post(a1, "sb:1", dt.date(2026, 6, 1), 16, Source.SCHOOL_BASED, mode="校本研修", actor=clerk)
    post(a1, "ss:1", dt.date(2026, 6, 2), 6, Source.SELF_STUDY, actor=clerk)
    post(a1, "claim:1", dt.date(2026, 7, 1), 12, Source.EXTERNAL_CERTIFICATE, mode="网络研修", project_code="EXT-9",
         actor=clerk)
    # a claim carrying the code of a project run here still counts as recognised hours
    post(a1, "claim:2", dt.date(2026, 7, 2), 3, Source.EXTERNAL_CERTIFICATE, mode="集中面授", project_code="P-N",
         actor=clerk)
    post(a1, "adj:1", dt.date(2026, 8, 1), 2, Source.MANUAL_ADJUSTMENT, actor=clerk)
    post(b2, "sb:2", dt.date(2026, 6, 1), 4, Source.SCHOOL_BASED, mode="校本研修", actor=clerk)

    plan = ExchangePlan.objects.create(year=YEAR, opened_by=clerk)
    Proposal.objects.create(plan=plan, teacher=b1, home_school=s2, receiving_school=s1, form="cluster",
                            status="approved", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2027, 8, 31))
    Proposal.objects.create(plan=plan, teacher=b2, home_school=s2, receiving_school=s1, form="cluster",
                            status="proposed", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2027, 8, 31))

    def entry(teacher, tier, type_, cert, awarded, expires, **over):
        return RosterEntry.objects.create(teacher=teacher, tier=tier, type=type_, certificate_no=cert, awarded_on=awarded,
                                          expires_on=expires, school_at_award=teacher.school, **over)

    entry(a1, "省级", "教学名师", "C-1", dt.date(2022, 1, 1), dt.date(2027, 1, 1))
    entry(a1, "市级", "学科带头人", "C-2", dt.date(2021, 1, 1), dt.date(2026, 1, 1))  # expired in Y
    entry(a1, "市级", "学科带头人", "C-3", dt.date(2025, 1, 1), dt.date(2030, 1, 1), status="reawarded",
          ended_on=dt.date(2026, 5, 1))  # ended by a re-award in Y
    entry(b1, "县级", "骨干教师", "C-4", dt.date(2027, 1, 5), dt.date(2032, 1, 5))  # awarded after Y
    later = entry(b2, "县级", "骨干教师", "C-5", dt.date(2024, 1, 1), dt.date(2029, 1, 1), status="revoked")
    event = RosterEvent.objects.create(entry=later, action="revoke", from_state="active", to_state="revoked")
    RosterEvent.objects.filter(pk=event.pk).update(created_at=timezone.make_aware(dt.datetime(2027, 3, 1, 9)))
    entry(c1, "县级", "骨干教师", "C-6", dt.date(2024, 1, 1), dt.date(2029, 1, 1), status="revoked")  # no date: revoked
    return {"clerk": clerk, "teachers": {"A1": a1, "B1": b1, "B2": b2, "C1": c1}}
