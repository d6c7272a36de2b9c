"""BB-3 and BB-5 as amended: county rounds run by their district, quotas read by the shortlist, objections
that hold their candidate, the trainee stage, the score sheet, and re-award before expiry."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from backbone import services
from backbone.imports import ScoreImporter
from backbone.models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Objection,
    RosterEntry,
    RosterEvent,
    RoundStatus,
    SelectionRound,
)
from backbone.objections import objection_record, objection_resolve, objection_submit
from bureau.importing import run_import
from bureau.models import AuditEntry
from bureau.services import ApplicationError, user_assign_role
from tests.backbone.test_roster import comply, make
from tests.factories import TeacherFactory, UserFactory
from tests.xlsx import xlsx_bytes

NOTICE_FROM = dt.date(2026, 11, 23)  # Monday; five working days end on Friday 27 November
AFTER_NOTICE = dt.date(2026, 11, 30)
NOW = timezone.now()


def candidate(round_, school, staff_no, name, subject="语文", score=None):
    teacher = TeacherFactory(staff_no=staff_no, name=name, school=school, subject=subject)
    return Application.objects.create(round=round_, teacher=teacher, school=school, score=score,
                                      status=ApplicationStatus.RECOMMENDED)


def to_review(round_, actor):
    services.round_start_notice(round_=round_, starts_on=NOTICE_FROM, actor=actor)
    services.round_start_review(round_=round_, today=AFTER_NOTICE, actor=actor)


# --- who opens and runs a round ------------------------------------------------------------------------


def test_district_staff_open_a_county_round_of_their_own_district(users, city):
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=2, actor=users["district"])
    assert round_.district == city["districts"][0]
    assert AuditEntry.objects.filter(action="backbone.round.opened", object_id=str(round_.pk)).exists()


@pytest.mark.parametrize("tier, district_index, message", [
    ("市级", None, "只能发起本区县的县级评选"),
    ("县级", 1, "只能发起本区县的县级评选"),
])
def test_district_staff_open_no_other_round(users, city, tier, district_index, message):
    district = city["districts"][district_index] if district_index is not None else None
    with pytest.raises(ApplicationError, match=message):
        services.round_open(year=2026, tier=tier, type_="骨干教师", places=2, district=district, actor=users["district"])
    assert not SelectionRound.objects.exists()


def test_bureau_opens_any_round_and_a_county_round_needs_its_district(users, city):
    with pytest.raises(ApplicationError, match="县级评选须指定区县"):
        services.round_open(year=2026, tier="县级", type_="骨干教师", places=2, actor=users["bureau"])
    with pytest.raises(ApplicationError, match="不指定区县"):
        services.round_open(year=2026, tier="市级", type_="骨干教师", places=2, district=city["districts"][1],
                            actor=users["bureau"])
    county = services.round_open(year=2026, tier="县级", type_="骨干教师", places=2, district=city["districts"][1],
                                 actor=users["bureau"])
    city_round = services.round_open(year=2026, tier="市级", type_="骨干教师", places=2, actor=users["bureau"],
                                     quotas=[(city["districts"][0], "", 1), (city["districts"][1], "", 1)])
    assert county.district == city["districts"][1] and city_round.district is None
    assert city_round.quotas.count() == 2


@pytest.mark.parametrize("role", ["principal", "teacher", "auditor"])
def test_no_one_else_opens_a_round(users, role):
    with pytest.raises(ApplicationError, match="发起评选"):
        services.round_open(year=2026, tier="市级", type_="骨干教师", places=2, actor=users[role])


def test_a_district_runs_only_its_own_rounds(users, city):
    other = services.round_open(year=2026, tier="县级", type_="骨干教师", places=1, district=city["districts"][1],
                                actor=users["bureau"])
    candidate(other, city["schools"][2], "X1", "甲")
    with pytest.raises(ApplicationError, match="只有组织本次评选的教育局"):
        services.round_start_notice(round_=other, starts_on=NOTICE_FROM, actor=users["district"])
    city_round = services.round_open(year=2026, tier="市级", type_="骨干教师", places=1, actor=users["bureau"])
    candidate(city_round, city["schools"][0], "X2", "乙")
    with pytest.raises(ApplicationError, match="只有组织本次评选的教育局"):
        services.round_start_notice(round_=city_round, starts_on=NOTICE_FROM, actor=users["district"])
    assert SelectionRound.objects.filter(status=RoundStatus.OPEN).count() == 2


def test_a_county_round_takes_the_teachers_of_its_district_only(users, city):
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=1, actor=users["district"])
    outsider = make(city["schools"][2], "OUT")
    insider = make(city["schools"][1], "IN")
    for teacher in (outsider, insider):
        for year in (2024, 2025):
            comply(teacher, year, users["bureau"])
    accounts = []
    for teacher in (outsider, insider):
        user = UserFactory()
        user_assign_role(user=user, role="teacher", teacher=teacher, actor=users["bureau"])
        accounts.append(user)
    with pytest.raises(ApplicationError, match="只面向该区县的教师"):
        services.application_apply(round_=round_, actor=accounts[0])
    assert services.application_apply(round_=round_, actor=accounts[1]).teacher == insider


# --- review: scores, quotas, ties ------------------------------------------------------------------------


def test_bb3_shortlist_respects_district_quotas(users, city):
    """Issue 15: with quotas 1 and 2 for two districts, all three places went to the first."""
    d1, d2 = city["districts"]
    round_ = services.round_open(year=2026, tier="市级", type_="骨干教师", places=3, actor=users["bureau"],
                                 quotas=[(d1, "", 1), (d2, "", 2)])
    east = [candidate(round_, city["schools"][0], f"E{i}", f"东{i}", score=D(95 - i)) for i in range(3)]
    west = [candidate(round_, city["schools"][2], f"W{i}", f"西{i}", score=D(80 - i)) for i in range(3)]
    to_review(round_, users["bureau"])
    trainees = services.review_select(round_=round_, actor=users["bureau"])
    assert [a.pk for a in trainees] == [east[0].pk, west[0].pk, west[1].pk]
    statuses = dict(Application.objects.filter(round=round_).values_list("pk", "status"))
    assert [statuses[a.pk] for a in east + west] == ["trainee", "not_selected", "not_selected", "trainee", "trainee",
                                                      "not_selected"]
    assert SelectionRound.objects.get(pk=round_.pk).status == RoundStatus.TRAINING


def test_bb3_shortlist_needs_every_score_and_refuses_a_tie_at_the_last_place(users, city):
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=2, actor=users["district"])
    a, b, c = (candidate(round_, city["schools"][0], f"C{i}", f"候{i}") for i in range(3))
    to_review(round_, users["district"])
    services.review_score(round_=round_, scores={a.pk: D("90"), b.pk: D("85")}, actor=users["district"])
    with pytest.raises(ApplicationError, match="未评分：候2"):
        services.review_select(round_=round_, actor=users["district"])
    services.review_score(round_=round_, scores={c.pk: D("85")}, actor=users["district"])
    with pytest.raises(ApplicationError, match="候1、候2得分相同（85.00）"):
        services.review_select(round_=round_, actor=users["district"])
    services.review_score(round_=round_, scores={c.pk: D("85.5")}, actor=users["district"])
    assert [x.pk for x in services.review_select(round_=round_, actor=users["district"])] == [a.pk, c.pk]


@pytest.mark.parametrize("score, ok", [(D("0"), True), (D("100"), True), (D("100.01"), False), (D("-1"), False),
                                       (D("80.123"), False)])
def test_scores_are_out_of_100_with_two_decimals(users, city, score, ok):
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=1, actor=users["district"])
    a = candidate(round_, city["schools"][0], "C1", "甲")
    candidate(round_, city["schools"][0], "C2", "乙")
    to_review(round_, users["district"])
    if ok:
        assert services.review_score(round_=round_, scores={a.pk: score}, actor=users["district"]) == 1
        assert ApplicationEvent.objects.filter(application=a, action="score").count() == 1
    else:
        with pytest.raises(ApplicationError):
            services.review_score(round_=round_, scores={a.pk: score}, actor=users["district"])


def test_score_sheet_import_validates_every_row(users, city):
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=1, actor=users["district"])
    a = candidate(round_, city["schools"][0], "C1", "甲")
    b = candidate(round_, city["schools"][1], "C2", "乙")
    TeacherFactory(staff_no="NOPE", name="丙", school=city["schools"][0])
    to_review(round_, users["district"])
    bad = xlsx_bytes(["工号", "姓名", "评审得分"], [["C1", "甲", 88], ["C2", "丁", 90], ["NOPE", "丙", 70], ["C1", "甲", 101]])
    report = run_import(ScoreImporter(round_=round_, actor=users["district"], today=AFTER_NOTICE), bad)
    assert [str(e) for e in report.errors] == [
        "第3行 姓名: “丁”与工号对应的候选人（乙）不符",
        "第4行 工号: “NOPE”不是本次评选的候选人",
        "第5行 工号: 与第2行重复",
        "第5行 评审得分: “101”得分应在 0 至 100 之间",
    ]
    assert not report.written and Application.objects.get(pk=a.pk).score is None
    good = xlsx_bytes(["工号", "姓名", "评审得分"], [["C1", "甲", 88.5], ["C2", "乙", "90"]])
    report = run_import(ScoreImporter(round_=round_, actor=users["district"], today=AFTER_NOTICE), good)
    assert report.written and report.updated == 2
    assert [Application.objects.get(pk=x.pk).score for x in (a, b)] == [D("88.50"), D("90.00")]
    good.seek(0)
    again = run_import(ScoreImporter(round_=round_, actor=users["district"], today=AFTER_NOTICE), good)
    assert (again.updated, again.unchanged) == (0, 2)


# --- objections ------------------------------------------------------------------------------------------


@pytest.fixture
def noticed(users, city):
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=1, actor=users["district"])
    people = [candidate(round_, city["schools"][0], f"C{i}", f"候{i}") for i in range(3)]
    services.round_start_notice(round_=round_, starts_on=NOTICE_FROM, actor=users["district"])
    return round_, people


@pytest.mark.parametrize("today, ok", [(NOTICE_FROM - dt.timedelta(days=1), False), (NOTICE_FROM, True),
                                       (dt.date(2026, 11, 27), True), (dt.date(2026, 11, 28), False)])
def test_public_objections_only_during_the_notice_period(noticed, today, ok):
    _, (a, _, _) = noticed
    if ok:
        objection = objection_submit(application=a, text="论文抄袭", contact="", today=today)
        assert objection.recorded_by is None and objection.is_open
        event = ApplicationEvent.objects.get(application=a, action="objection")
        assert (event.actor, event.from_state, event.to_state) == (None, "recommended", "recommended")
    else:
        with pytest.raises(ApplicationError, match="不在公示期内"):
            objection_submit(application=a, text="论文抄袭", contact="", today=today)


def test_objection_text_is_required_and_limited(noticed):
    _, (a, _, _) = noticed
    with pytest.raises(ApplicationError, match="请填写异议内容"):
        objection_submit(application=a, text="  ", contact="", today=NOTICE_FROM)
    objection_submit(application=a, text="字" * 1000, contact="", today=NOTICE_FROM)
    with pytest.raises(ApplicationError, match="不超过 1000 字"):
        objection_submit(application=a, text="字" * 1001, contact="", today=NOTICE_FROM)
    with pytest.raises(ApplicationError, match="联系方式不超过 100 字"):
        objection_submit(application=a, text="有异议", contact="1" * 101, today=NOTICE_FROM)


def test_an_open_objection_holds_its_candidate_until_dismissed(users, noticed):
    round_, (a, b, c) = noticed
    objection = objection_record(application=a, text="材料存疑", actor=users["district"])
    services.round_start_review(round_=round_, today=AFTER_NOTICE, actor=users["district"])
    services.review_score(round_=round_, scores={a.pk: D("90"), b.pk: D("80"), c.pk: D("70")}, actor=users["district"])
    with pytest.raises(ApplicationError, match="公示异议尚未处理（候0）"):
        services.review_select(round_=round_, actor=users["district"])
    with pytest.raises(ApplicationError, match="请填写核查结论"):
        objection_resolve(objection=objection, upheld=False, resolution=" ", actor=users["district"], now=NOW)
    objection_resolve(objection=objection, upheld=False, resolution="经核查材料属实", actor=users["district"], now=NOW)
    objection.refresh_from_db()
    assert (objection.finding, objection.resolved_by) == ("dismissed", users["district"])
    assert [x.pk for x in services.review_select(round_=round_, actor=users["district"])] == [a.pk]
    with pytest.raises(ApplicationError, match="已处理"):
        objection_resolve(objection=objection, upheld=True, resolution="再议", actor=users["district"], now=NOW)


def test_an_upheld_objection_disqualifies_and_closes_the_candidates_other_objections(users, noticed):
    round_, (a, b, c) = noticed
    first = objection_record(application=a, text="材料造假", actor=users["district"])
    second = objection_submit(application=a, text="另有举报", contact="", today=NOTICE_FROM)
    finding = "经核查论文系抄袭" + "。" * 292  # a finding may be 300 characters long, all of it kept
    objection_resolve(objection=first, upheld=True, resolution=finding, actor=users["district"], now=NOW)
    a.refresh_from_db()
    second.refresh_from_db()
    assert (a.status, a.outcome_note) == ("disqualified", finding)
    assert (second.finding, second.is_open) == ("moot", False)
    services.round_start_review(round_=round_, today=AFTER_NOTICE, actor=users["district"])
    trainees = services.review_select(round_=round_, scores={b.pk: D("80"), c.pk: D("70")}, actor=users["district"])
    assert [x.pk for x in trainees] == [b.pk]
    assert AuditEntry.objects.filter(action="backbone.objection.resolved").count() == 1


def test_an_objection_against_a_trainee_holds_the_assessment_and_the_award(users, noticed):
    round_, (a, b, c) = noticed
    services.round_start_review(round_=round_, today=AFTER_NOTICE, actor=users["district"])
    services.review_select(round_=round_, scores={a.pk: D("90"), b.pk: D("80"), c.pk: D("70")}, actor=users["district"])
    services.training_assess(application=a, passed=True, actor=users["district"])
    objection = objection_record(application=a, text="培养期间有违纪", actor=users["district"])
    with pytest.raises(ApplicationError, match="公示异议尚未处理（候0），处理后才能认定"):
        services.round_award(round_=round_, awarded_on=dt.date(2027, 6, 1), actor=users["district"])
    objection_resolve(objection=objection, upheld=False, resolution="查无实据", actor=users["district"], now=NOW)
    assert len(services.round_award(round_=round_, awarded_on=dt.date(2027, 6, 1), actor=users["district"])) == 1
    with pytest.raises(ApplicationError, match="认定之前"):
        objection_record(application=a, text="迟到的异议", actor=users["district"])


# --- trainees ------------------------------------------------------------------------------------------


def test_trainees_pass_or_are_dropped_with_a_reason_and_only_passes_are_awarded(users, city):
    round_ = services.round_open(year=2026, tier="县级", type_="骨干教师", places=2, actor=users["district"])
    a, b, c = (candidate(round_, city["schools"][0], f"C{i}", f"候{i}") for i in range(3))
    to_review(round_, users["district"])
    services.review_select(round_=round_, scores={a.pk: D("90"), b.pk: D("80"), c.pk: D("70")}, actor=users["district"])
    with pytest.raises(ApplicationError, match="未登记培养考核（候0、候1）"):
        services.round_award(round_=round_, awarded_on=dt.date(2027, 6, 1), actor=users["district"])
    with pytest.raises(ApplicationError, match="淘汰须填写理由"):
        services.training_assess(application=b, passed=False, actor=users["district"])
    services.training_assess(application=a, passed=True, actor=users["district"])
    services.training_assess(application=b, passed=False, reason="培养期考核不合格", actor=users["district"])
    with pytest.raises(ApplicationError, match="该申报已处理"):
        services.training_assess(application=b, passed=True, actor=users["district"])
    entries = services.round_award(round_=round_, awarded_on=dt.date(2027, 6, 1), actor=users["district"])
    assert [e.teacher_id for e in entries] == [a.teacher_id]
    b.refresh_from_db()
    assert (b.status, b.outcome_note) == ("dropped", "培养期考核不合格")
    assert list(ApplicationEvent.objects.filter(application=b).values_list("action", "reason")) == [
        ("score", "得分 80.00"), ("shortlist", "得分 80.00"), ("drop", "培养期考核不合格")]


# --- BB-5: re-award before expiry ----------------------------------------------------------------------


def _award_again(users, teacher, awarded_on, **round_values):
    values = dict(year=awarded_on.year, tier="县级", type="骨干教师", places=1, status=RoundStatus.TRAINING,
                  district=teacher.school.district)
    values.update(round_values)
    round_ = SelectionRound.objects.create(**values)
    Application.objects.create(round=round_, teacher=teacher, school=teacher.school, status=ApplicationStatus.PASSED)
    return services.round_award(round_=round_, awarded_on=awarded_on, actor=users["bureau"])


def test_bb5_reaward_before_expiry_ends_the_old_entry_and_starts_five_new_years(users, city):
    teacher = city["teachers"][0]
    (old,) = _award_again(users, teacher, dt.date(2022, 9, 1))
    (new,) = _award_again(users, teacher, dt.date(2026, 12, 20))  # before the old expiry, 2027-09-01
    old.refresh_from_db()
    assert (old.status, old.ended_on, old.allowance) == ("reawarded", dt.date(2026, 12, 20), False)
    assert old.get_status_display() == "已重新认定"
    assert (new.status, new.awarded_on, new.expires_on) == ("active", dt.date(2026, 12, 20), dt.date(2031, 12, 20))
    event = RosterEvent.objects.get(entry=old, action="reaward")
    assert (event.from_state, event.to_state, event.actor, event.reason) == (
        "active", "reawarded", users["bureau"], f"重新认定（新证书 {new.certificate_no}）")
    assert RosterEntry.objects.filter(teacher=teacher, status="active").get() == new


def test_bb5_reaward_of_one_holder_does_not_undo_the_rest_of_the_award(users, city):
    holder, newcomer = city["teachers"][:2]
    _award_again(users, holder, dt.date(2023, 1, 10))
    round_ = SelectionRound.objects.create(year=2026, tier="县级", type="骨干教师", places=2, status=RoundStatus.TRAINING,
                                           district=city["districts"][0])
    for teacher in (holder, newcomer):
        Application.objects.create(round=round_, teacher=teacher, school=teacher.school, status=ApplicationStatus.PASSED)
    entries = services.round_award(round_=round_, awarded_on=dt.date(2026, 12, 20), actor=users["bureau"])
    assert [e.teacher for e in entries] == [holder, newcomer]
    assert RosterEntry.objects.filter(status="active").count() == 2


def test_bb5_award_on_the_expiry_day_lapses_the_old_entry_instead(users, city):
    teacher = city["teachers"][0]
    (old,) = _award_again(users, teacher, dt.date(2021, 12, 20))
    (new,) = _award_again(users, teacher, dt.date(2026, 12, 20))  # exactly the old expiry: the title had run out
    old.refresh_from_db()
    assert (old.status, old.ended_on) == ("lapsed", None)
    assert list(RosterEvent.objects.filter(entry=old).values_list("action", flat=True)) == ["award", "lapse"]
    assert new.status == "active"


def test_bb5_another_tier_or_type_is_not_a_reaward(users, city):
    teacher = city["teachers"][0]
    (county,) = _award_again(users, teacher, dt.date(2024, 9, 1))
    _award_again(users, teacher, dt.date(2026, 9, 1), tier="市级", district=None)
    _award_again(users, teacher, dt.date(2026, 9, 2), type="学科带头人")
    county.refresh_from_db()
    assert county.status == "active"
    assert RosterEntry.objects.filter(teacher=teacher, status="active").count() == 3


def test_objection_rows_keep_their_hold_in_the_database(users, noticed):
    """A finding needs its recorded resolution (database constraint)."""
    from django.db import IntegrityError, transaction

    _, (a, _, _) = noticed
    with pytest.raises(IntegrityError), transaction.atomic():
        Objection.objects.create(application=a, text="x", finding="upheld", resolution="")
