"""Candidates in the database (BB-2), the round's state machine (BB-3), assessment and allowance (BB-4),
expiry jobs run twice (BB-5), mentoring (BB-6), the candidates workbook."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from backbone import roster, services
from backbone.models import Application, EthicsVeto, RosterEntry, RosterEvent
from backbone.objections import objection_record, objection_resolve
from backbone.selectors import candidates
from bureau.models import Notice
from bureau.services import ApplicationError, user_assign_role
from credits.models import Exemption
from credits.services import ledger_adjust
from tests.factories import SchoolFactory, TeacherFactory, UserFactory


def make(school, staff_no, **over):
    values = dict(title="一级教师", education="本科", birth_date=dt.date(1985, 1, 1), employed_on=dt.date(2010, 9, 1),
                  joined_school_on=dt.date(2012, 9, 1))
    values.update(over)
    return TeacherFactory(school=school, staff_no=staff_no, **values)


@pytest.fixture
def staff(db):
    bureau = UserFactory(username="clerk")
    user_assign_role(user=bureau, role="bureau", actor=None)
    return bureau


def comply(teacher, year, bureau):
    ledger_adjust(teacher_id=teacher.pk, entry_date=dt.date(year, 6, 1), hours=D(72), credits=D(72), reason="测试", actor=bureau)


def test_candidates_follow_bb2_in_the_database(staff, tmp_path):
    school = SchoolFactory(code="S1")
    ok = make(school, "OK")
    for year in (2024, 2025):
        comply(ok, year, staff)
    short_2025 = make(school, "SHORT")
    comply(short_2025, 2024, staff)
    exempt_2025 = make(school, "EXEMPT")
    comply(exempt_2025, 2024, staff)
    Exemption.objects.create(teacher=exempt_2025, year=2025, reason="产假", status="granted")
    new_teacher = make(SchoolFactory(code="S0"), "NEW", employed_on=dt.date(2018, 8, 31), joined_school_on=dt.date(2018, 8, 31))
    comply(new_teacher, 2024, staff)
    comply(new_teacher, 2025, staff)
    old = make(school, "OLD", birth_date=dt.date(1980, 8, 31))
    veto = make(school, "VETO")
    EthicsVeto.objects.create(teacher=veto, year=2025, reason="有偿补课")
    for t in (old, veto):
        comply(t, 2024, staff)
        comply(t, 2025, staff)
    make(school, "RETIRED", status="退休")
    rows = candidates(year=2026, tier="县级", type_="学科带头人")
    assert [(c.staff_no, c.school_code, c.age, c.teaching_years) for c in rows] == [
        ("NEW", "S0", 41, 8), ("EXEMPT", "S1", 41, 15), ("OK", "S1", 41, 15)]
    path = tmp_path / "b.xlsx"
    call_command("backbone_candidates", "--year", "2026", "--tier", "县级", "--type", "学科带头人", "--output", str(path))
    sheet = load_workbook(path)["候选人"]
    assert [r for r in sheet.iter_rows(values_only=True)][0] == ("工号", "姓名", "学校代码", "职称", "年龄", "教龄")
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["NEW", "EXEMPT", "OK"]


@pytest.fixture
def round_world(staff):
    school = SchoolFactory(code="S1")
    principal = UserFactory()
    user_assign_role(user=principal, role="principal", school=school, actor=staff)
    people = []
    for i in range(4):
        teacher = make(school, f"T{i}")
        for year in (2024, 2025):
            comply(teacher, year, staff)
        user = UserFactory()
        user_assign_role(user=user, role="teacher", teacher=teacher, actor=staff)
        people.append((teacher, user))
    round_ = services.round_open(year=2026, tier="县级", type_="学科带头人", places=2, school_limit=3,
                                district=school.district, actor=staff)
    return {"school": school, "principal": principal, "people": people, "round": round_, "bureau": staff}


def test_bb3_round_state_machine(round_world):
    w = round_world
    applications = [services.application_apply(round_=w["round"], actor=user) for _, user in w["people"]]
    for application in applications[:3]:
        services.application_recommend(application=application, recommend=True, actor=w["principal"])
    with pytest.raises(ApplicationError, match="推荐名额为 3 人，已用完"):
        services.application_recommend(application=applications[3], recommend=True, actor=w["principal"])
    with pytest.raises(ApplicationError, match="不能执行"):
        services.round_award(round_=w["round"], awarded_on=dt.date(2026, 12, 1), actor=w["bureau"])
    services.round_start_notice(round_=w["round"], starts_on=dt.date(2026, 11, 23), actor=w["bureau"])
    objection = objection_record(application=applications[0], text="材料存疑", actor=w["bureau"])
    with pytest.raises(ApplicationError, match="公示期至 2026-11-27 结束"):
        services.round_start_review(round_=w["round"], today=dt.date(2026, 11, 27), actor=w["bureau"])
    services.round_start_review(round_=w["round"], today=dt.date(2026, 11, 28), actor=w["bureau"])
    scores = {a.pk: D(s) for a, s in zip(applications[:3], ["88", "95", "70"])}
    with pytest.raises(ApplicationError, match="公示异议尚未处理"):
        services.review_select(round_=w["round"], scores=scores, actor=w["bureau"])
    objection_resolve(objection=objection, upheld=False, resolution="经核查材料属实", actor=w["bureau"], now=timezone.now())
    chosen = services.review_select(round_=w["round"], scores=scores, actor=w["bureau"])
    assert [a.pk for a in chosen] == [applications[1].pk, applications[0].pk]
    for application in chosen:
        services.training_assess(application=application, passed=True, actor=w["bureau"])
    entries = services.round_award(round_=w["round"], awarded_on=dt.date(2026, 12, 20), actor=w["bureau"])
    assert [(e.certificate_no, e.expires_on) for e in entries] == [
        ("2026XL0001", dt.date(2031, 12, 20)), ("2026XL0002", dt.date(2031, 12, 20))]
    assert Application.objects.get(pk=applications[2].pk).status == "not_selected"


def test_bb3_review_needs_more_candidates_than_places(round_world):
    w = round_world
    for _, user in w["people"][:2]:
        application = services.application_apply(round_=w["round"], actor=user)
        services.application_recommend(application=application, recommend=True, actor=w["principal"])
    services.round_start_notice(round_=w["round"], starts_on=dt.date(2026, 11, 23), actor=w["bureau"])
    with pytest.raises(ApplicationError, match="差额评审"):
        services.round_start_review(round_=w["round"], today=dt.date(2026, 12, 10), actor=w["bureau"])


def test_bb2_teacher_who_does_not_qualify_is_told_why(round_world):
    w = round_world
    teacher = make(w["school"], "YOUNG", title="二级教师", employed_on=dt.date(2020, 9, 1), joined_school_on=dt.date(2020, 9, 1))
    user = UserFactory()
    user_assign_role(user=user, role="teacher", teacher=teacher, actor=w["bureau"])
    with pytest.raises(ApplicationError, match="职称须为一级教师及以上（现为二级教师）；教龄须满8年（2026-08-31时5年）；2024年度学分未达标"):
        services.application_apply(round_=w["round"], actor=user)


def entry_for(teacher, school, **over):
    values = dict(teacher=teacher, tier="县级", type="骨干教师", certificate_no=f"C-{teacher.staff_no}",
                  awarded_on=dt.date(2022, 1, 10), expires_on=dt.date(2027, 1, 10), school_at_award=school)
    values.update(over)
    return RosterEntry.objects.create(**values)


def test_bb4_failed_assessment_revokes_title_and_allowance_and_keeps_history(staff):
    school = SchoolFactory()
    entry = entry_for(make(school, "A"), school)
    roster.assessment_record(entry=entry, year=2026, passed=False, actor=staff)
    entry.refresh_from_db()
    assert (entry.status, entry.allowance) == ("revoked", False)
    assert list(RosterEvent.objects.filter(entry=entry).values_list("action", flat=True)) == ["revoke"]
    with pytest.raises(ApplicationError, match="已登记"):
        roster.assessment_record(entry=entry, year=2026, passed=True, actor=staff)


def test_bb4_moving_school_keeps_title_loses_allowance_once(staff):
    school, other = SchoolFactory(), SchoolFactory()
    teacher = make(school, "A")
    entry = entry_for(teacher, school)
    teacher.school = other
    teacher.save()
    assert roster.allowances_follow_school() == 1
    assert roster.allowances_follow_school() == 0
    entry.refresh_from_db()
    assert (entry.status, entry.allowance) == ("active", False)


def test_bb5_expiry_notices_and_lapse_run_twice(staff):
    school = SchoolFactory()
    principal = UserFactory()
    user_assign_role(user=principal, role="principal", school=school, actor=staff)
    teacher = make(school, "A")
    teacher_user = UserFactory()
    user_assign_role(user=teacher_user, role="teacher", teacher=teacher, actor=staff)
    entry = entry_for(teacher, school, expires_on=dt.date(2027, 2, 21))
    today = dt.date(2026, 11, 22)  # 91 days before expiry: not yet
    assert roster.expiry_notices(today=today) == 0
    today = dt.date(2026, 11, 23)  # 90 days before
    assert roster.expiry_notices(today=today) == 1
    assert roster.expiry_notices(today=today) == 0
    assert set(Notice.objects.values_list("recipient", flat=True)) == {teacher_user.pk, principal.pk}
    assert roster.lapse_expired(today=dt.date(2027, 2, 20)) == 0
    assert roster.lapse_expired(today=dt.date(2027, 2, 21)) == 1
    assert roster.lapse_expired(today=dt.date(2027, 2, 21)) == 0
    entry.refresh_from_db()
    assert entry.status == "lapsed"
    assert list(RosterEvent.objects.filter(entry=entry).values_list("action", flat=True)) == ["lapse"]


def test_bb6_mentor_needs_a_higher_title(staff):
    school = SchoolFactory()
    mentor, mentee, peer = make(school, "M"), make(SchoolFactory(), "E"), make(school, "P")
    entry_for(mentor, school, tier="市级", certificate_no="C1")
    entry_for(peer, school, tier="市级", certificate_no="C2")
    assert roster.mentoring_pair(mentor=mentor, mentee=mentee, started_on=dt.date(2026, 9, 1), actor=staff)
    with pytest.raises(ApplicationError, match="高于徒弟"):
        roster.mentoring_pair(mentor=mentor, mentee=peer, started_on=dt.date(2026, 9, 1), actor=staff)


def test_awarded_titles_get_verifiable_certificates_with_expiry_and_revocation(round_world, client):
    from training.models import Certificate

    w = round_world
    applications = [services.application_apply(round_=w["round"], actor=user) for _, user in w["people"][:3]]
    for application in applications:
        services.application_recommend(application=application, recommend=True, actor=w["principal"])
    services.round_start_notice(round_=w["round"], starts_on=dt.date(2026, 11, 23), actor=w["bureau"])
    services.round_start_review(round_=w["round"], today=dt.date(2026, 12, 1), actor=w["bureau"])
    trainees = services.review_select(round_=w["round"], scores={a.pk: D(90 - i) for i, a in enumerate(applications)},
                                      actor=w["bureau"])
    for application in trainees:
        services.training_assess(application=application, passed=True, actor=w["bureau"])
    entries = services.round_award(round_=w["round"], awarded_on=dt.date(2026, 12, 20), actor=w["bureau"])
    certificate = Certificate.objects.get(backbone_title=entries[0])
    assert (certificate.title, certificate.expires_on, certificate.status) == ("县级学科带头人", dt.date(2031, 12, 20), "valid")
    assert "2031-12-20" in client.get(f"/verify/{certificate.code}/").content.decode()
    roster.assessment_record(entry=entries[0], year=2027, passed=False, actor=w["bureau"])
    certificate.refresh_from_db()
    assert certificate.status == "revoked"
