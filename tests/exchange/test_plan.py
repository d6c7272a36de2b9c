"""Eligibility in the database (EX-1..EX-4), the workbook, the plan workflow (EX-5, EX-8), pages and API."""

import datetime as dt

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from bureau.models import Posting, School, SubjectQuota, Teacher
from bureau.services import ApplicationError, user_assign_role
from exchange import rules
from exchange.models import ExchangePlan, Proposal, ProposalEvent
from exchange.selectors import eligible_teachers, receiving_suggestions, school_quotas
from exchange.services import plan_open, proposal_create, proposal_transition, proposals_place
from tests.factories import SchoolFactory, TeacherFactory, UserFactory

YEAR = 2026
LONG = dt.date(2015, 9, 1)


def teacher(school, staff_no, *, gender="女", birth=dt.date(1985, 1, 1), joined=LONG, **over):
    return TeacherFactory(school=school, staff_no=staff_no, gender=gender, birth_date=birth, joined_school_on=joined,
                          employed_on=min(joined, dt.date(2007, 9, 1)), **over)


def away(t, start, end, kind="exchange", school=None):
    return Posting.objects.create(teacher=t, school=school or SchoolFactory(stage="小学", location="乡村"), kind=kind,
                                  started_on=start, ended_on=end)


def test_edges_in_the_database_agree_with_the_rule(db):
    """Amended EX-1 (this test said 55 and 50 were out before the amendment; they are in now)."""
    school = SchoolFactory(code="P1", stage="小学")
    high = SchoolFactory(code="H1", stage="高中")
    made = [
        teacher(school, "M55", gender="男", birth=dt.date(1971, 8, 31)),   # 55 on the reference date: yes
        teacher(school, "M56", gender="男", birth=dt.date(1970, 8, 31)),   # 56: no
        teacher(school, "W50", birth=dt.date(1976, 8, 31)),                # 50: yes
        teacher(school, "W51", birth=dt.date(1975, 8, 31)),                # 51: no
        teacher(school, "Y6", joined=dt.date(2020, 8, 31)),                # exactly 6 years: yes
        teacher(school, "Y5", joined=dt.date(2020, 9, 1)),                 # 5 years 364 days: no
        teacher(school, "RET", status="退休"),
        teacher(school, "NT", is_non_teaching=True),
        teacher(school, "CT", cannot_teach=True),
        teacher(high, "HS"),
        teacher(school, "X6", joined=dt.date(2010, 9, 1)),                 # back exactly 6 years: yes
        teacher(school, "X5", joined=dt.date(2010, 9, 1)),                 # back 5 years 364 days: no
        teacher(school, "XON", joined=dt.date(2010, 9, 1)),                # away on the reference date: no
        teacher(school, "XSHORT", joined=dt.date(2010, 9, 1)),             # a short exchange: yes
        teacher(school, "XLATER", joined=dt.date(2010, 9, 1)),             # leaves after the reference date: yes
    ]
    by_no = {t.staff_no: t for t in made}
    away(by_no["X6"], dt.date(2019, 9, 1), dt.date(2020, 8, 31))
    away(by_no["X5"], dt.date(2019, 9, 2), dt.date(2020, 9, 1), kind="rural_support")
    away(by_no["XON"], dt.date(2025, 9, 1), None, kind="partnership")
    away(by_no["XSHORT"], dt.date(2024, 9, 1), dt.date(2025, 6, 30))
    away(by_no["XLATER"], dt.date(2026, 9, 1), dt.date(2027, 8, 31))
    eligible = {e.staff_no: e for e in eligible_teachers(YEAR, rules.ExchangeRules())}
    assert sorted(eligible) == ["M55", "W50", "X6", "XLATER", "XSHORT", "Y6"]
    for t in made:
        history = [rules.Secondment(p.started_on, p.ended_on) for p in t.postings.exclude(kind="regular")]
        assert (t.staff_no in eligible) == rules.is_eligible(
            active=t.status == "在职", stage=t.school.stage, male=t.gender == "男", birth_date=t.birth_date,
            joined_school_on=t.joined_school_on, on=rules.reference_date(YEAR), non_teaching=t.is_non_teaching,
            cannot_teach=t.cannot_teach, exchanges=history,
        ), t.staff_no
    assert (eligible["Y6"].age, eligible["Y6"].years_at_school, eligible["Y6"].reason) == (41, 6, "任职满6年")
    assert eligible["X6"].years_at_school == 6  # counted from the return, not from 入校日期 (16 years)
    (quota,) = school_quotas(YEAR, rules.ExchangeRules(), list(eligible.values()), School.objects.filter(code="P1"))
    assert (quota.eligible, quota.minimum) == (6, 1)  # those away or just back are not in the EX-3 base


def test_plans_opened_before_the_amendment_keep_their_reading(db):
    school = SchoolFactory(code="P1", stage="小学", staffing_quota=2)
    SubjectQuota.objects.create(school=school, subject="数学", quota=1)
    teacher(school, "M55", gender="男", birth=dt.date(1971, 8, 31))
    teacher(school, "W50", birth=dt.date(1976, 8, 31))
    back = teacher(school, "BACK", joined=dt.date(2010, 9, 1))
    away(back, dt.date(2024, 9, 1), dt.date(2025, 8, 31))
    old = ExchangePlan.objects.create(year=YEAR, amended_rules=False)
    assert [e.staff_no for e in eligible_teachers(YEAR, old.rules())] == ["BACK"]
    assert [e.staff_no for e in eligible_teachers(YEAR, rules.ExchangeRules())] == ["M55", "W50"]
    assert ExchangePlan(year=YEAR + 1).amended_rules  # a plan opened now reads as amended


def test_ex2_surplus_longest_at_school_first(db):
    """Amended EX-2: the school is overstaffed here (5 active teachers, 编制数 4); before the amendment
    this test had no 编制数 at all."""
    school = SchoolFactory(code="P1", stage="初中", staffing_quota=4)
    SubjectQuota.objects.create(school=school, subject="数学", quota=2)
    for staff_no, joined in [("A", dt.date(2022, 9, 1)), ("B", dt.date(2023, 9, 1)), ("C", dt.date(2024, 9, 1)), ("D", dt.date(2025, 9, 1))]:
        teacher(school, staff_no, joined=joined, subject="数学")
    teacher(school, "E", joined=dt.date(2024, 9, 1), subject="语文")
    eligible = eligible_teachers(YEAR, rules.ExchangeRules())
    assert [(e.staff_no, e.reason) for e in eligible] == [("A", "超编学科富余"), ("B", "超编学科富余")]


@pytest.mark.parametrize("staffing_quota, surplus", [(None, []), (6, []), (5, []), (4, ["A", "B"])])
def test_ex2_amended_surplus_only_when_overstaffed(db, staffing_quota, surplus):
    """5 active teachers (one of them non-teaching, still on the books): 编制数 5 is exactly full, 4 is one over."""
    school = SchoolFactory(code="P1", stage="初中", staffing_quota=staffing_quota)
    SubjectQuota.objects.create(school=school, subject="数学", quota=2)
    for staff_no, joined in [("A", dt.date(2022, 9, 1)), ("B", dt.date(2023, 9, 1)), ("C", dt.date(2024, 9, 1)), ("D", dt.date(2025, 9, 1))]:
        teacher(school, staff_no, joined=joined, subject="数学")
    teacher(school, "OFFICE", joined=dt.date(2024, 9, 1), subject="行政", is_non_teaching=True)
    teacher(school, "GONE", joined=dt.date(2024, 9, 1), subject="数学", status="调出")  # not active: not counted
    assert [e.staff_no for e in eligible_teachers(YEAR, rules.ExchangeRules())] == surplus


def test_ex2_surplus_skips_a_teacher_just_back_and_takes_the_next(db):
    school = SchoolFactory(code="P1", stage="初中", staffing_quota=2)
    SubjectQuota.objects.create(school=school, subject="数学", quota=2)
    a = teacher(school, "A", joined=dt.date(2022, 9, 1), subject="数学")
    teacher(school, "B", joined=dt.date(2023, 9, 1), subject="数学")
    teacher(school, "C", joined=dt.date(2024, 9, 1), subject="数学")
    away(a, dt.date(2024, 9, 1), dt.date(2025, 8, 31))
    assert [e.staff_no for e in eligible_teachers(YEAR, rules.ExchangeRules())] == ["B"]
    # The principal's view (scope: the school) and the teacher's own (scope: one teacher) agree.
    b = Teacher.objects.get(staff_no="B")
    assert [e.staff_no for e in eligible_teachers(YEAR, rules.ExchangeRules(), Teacher.objects.filter(pk=b.pk))] == ["B"]


def test_placing_does_not_change_the_years_list_but_bars_the_next_years(world):
    w = world
    proposal = proposal_create(plan=w["plan"], teacher=w["t"], form="cluster", receiving_school=w["away"], actor=w["principal"])
    proposal_transition(proposal=proposal, action="approve", actor=w["district"])
    proposals_place(plan=w["plan"], actor=w["bureau"])
    assert [e.staff_no for e in eligible_teachers(YEAR, w["plan"].rules())] == ["E1"]
    for year in (YEAR + 1, YEAR + 6):  # away on 31 August of Y+1, back for less than 6 years until Y+7
        assert eligible_teachers(year, rules.ExchangeRules()) == []
    assert [e.staff_no for e in eligible_teachers(YEAR + 7, rules.ExchangeRules())] == ["E1"]


@pytest.mark.parametrize("count, minimum", [(0, 0), (3, 1), (11, 2)])
def test_ex3_minimums_per_school(db, count, minimum):
    school = SchoolFactory(code="P1", stage="小学")
    for i in range(count):
        teacher(school, f"T{i:02d}")
    (quota,) = school_quotas(YEAR, rules.ExchangeRules(), eligible_teachers(YEAR, rules.ExchangeRules()))
    assert (quota.eligible, quota.minimum) == (count, minimum)


def test_workbook_rows_sorted_by_school_then_staff_no(db, tmp_path):
    b = SchoolFactory(code="B", name="乙小学", stage="小学")
    a = SchoolFactory(code="A", name="甲中学", stage="初中")
    SchoolFactory(code="C", name="丙高中", stage="高中")
    t2 = teacher(b, "T2", gender="男", birth=dt.date(1980, 9, 1))
    t9 = teacher(a, "T9")
    t1 = teacher(a, "T1")
    path = tmp_path / "e.xlsx"
    call_command("exchange_plan", "--year", str(YEAR), "--output", str(path))
    book = load_workbook(path)
    assert book.sheetnames == ["学校指标", "应交流教师", "说明"]
    assert list(book["学校指标"].iter_rows(values_only=True)) == [
        ("学校代码", "学校名称", "应交流人数", "最低交流人数"), ("A", "甲中学", 2, 1), ("B", "乙小学", 1, 1),
    ]
    assert list(book["应交流教师"].iter_rows(values_only=True)) == [
        ("工号", "姓名", "学校代码", "性别", "年龄", "本校任职年限", "原因"),
        ("T1", t1.name, "A", "女", 41, 10, "任职满6年"),
        ("T9", t9.name, "A", "女", 41, 10, "任职满6年"),
        ("T2", t2.name, "B", "男", 45, 10, "任职满6年"),
    ]


@pytest.fixture
def world(db):
    home = SchoolFactory(code="H", stage="小学", location="城区")
    away = SchoolFactory(code="R", stage="小学", location="乡村", district=home.district)
    t = teacher(home, "E1", subject="数学")
    bureau, district, principal, other_principal = (UserFactory() for _ in range(4))
    user_assign_role(user=bureau, role="bureau", actor=None)
    user_assign_role(user=district, role="district", district=home.district, actor=None)
    user_assign_role(user=principal, role="principal", school=home, actor=None)
    user_assign_role(user=other_principal, role="principal", school=away, actor=None)
    teacher_user = UserFactory()
    user_assign_role(user=teacher_user, role="teacher", teacher=t, actor=None)
    plan = plan_open(year=YEAR, actor=bureau)
    return locals()


def test_ex8_propose_approve_place_keeps_home_post(world):
    w = world
    proposal = proposal_create(plan=w["plan"], teacher=w["t"], form="rural_support", receiving_school=w["away"], actor=w["principal"])
    with pytest.raises(ApplicationError, match="无权"):
        proposal_transition(proposal=proposal, action="approve", actor=w["other_principal"])
    proposal_transition(proposal=proposal, action="approve", actor=w["district"])
    assert proposals_place(plan=w["plan"], actor=w["bureau"]) == 1
    postings = list(Posting.objects.filter(teacher=w["t"]).order_by("id").values_list("school__code", "kind", "ended_on"))
    assert postings == [("H", "regular", None), ("R", "rural_support", dt.date(YEAR + 1, 8, 31))]
    assert list(ProposalEvent.objects.filter(proposal=proposal).values_list("to_state", flat=True)) == ["proposed", "approved", "placed"]


def test_principal_cannot_propose_a_teacher_who_is_not_eligible(world):
    w = world
    young = teacher(w["home"], "NEW", joined=dt.date(2025, 9, 1))
    with pytest.raises(ApplicationError, match="不在本年度应交流名单"):
        proposal_create(plan=w["plan"], teacher=young, form="cluster", receiving_school=w["away"], actor=w["principal"])


def test_teacher_applies_individually_and_principal_forwards(world):
    w = world
    proposal = proposal_create(plan=w["plan"], teacher=w["t"], form="cluster", receiving_school=None, actor=w["teacher_user"])
    assert (proposal.status, proposal.form) == ("applied", "individual")
    with pytest.raises(ApplicationError, match="已在本年度交流名单"):
        proposal_create(plan=w["plan"], teacher=w["t"], form="cluster", receiving_school=w["away"], actor=w["principal"])
    proposal_transition(proposal=proposal, action="propose", actor=w["principal"], receiving_school=w["away"])
    with pytest.raises(ApplicationError, match="退回请填写原因"):
        proposal_transition(proposal=proposal, action="return", actor=w["district"])
    proposal_transition(proposal=proposal, action="return", actor=w["district"], note="名额已满")
    assert Proposal.objects.get(pk=proposal.pk).status == "returned"


def test_only_bureau_opens_a_plan_once(world):
    with pytest.raises(ApplicationError, match="已发起"):
        plan_open(year=YEAR, actor=world["bureau"])
    with pytest.raises(ApplicationError, match="只有市教育局"):
        plan_open(year=YEAR + 1, actor=world["district"])


def test_ex6_suggests_short_schools_in_the_same_cluster_first(db):
    from bureau.models import Cluster

    home = SchoolFactory(code="H", stage="小学")
    cluster = Cluster.objects.create(name="一片区", lead_school=home)
    near = SchoolFactory(code="N", stage="小学", cluster=cluster, district=home.district)
    far = SchoolFactory(code="F", stage="小学", district=home.district)
    full = SchoolFactory(code="X", stage="小学", cluster=cluster, district=home.district)
    home.cluster = cluster
    home.save()
    for school in (near, far, full):
        SubjectQuota.objects.create(school=school, subject="数学", quota=1)
    teacher(full, "FULL", subject="数学")
    assert [s.code for s in receiving_suggestions(subject="数学", home=home)] == ["N", "F"]


@pytest.mark.parametrize("role, status", [
    ("anonymous", 302), ("bureau", 200), ("district", 200), ("auditor", 200), ("principal", 403), ("teacher", 403)])
def test_overview_page_per_role(client, world, users, role, status):
    if role != "anonymous":
        client.force_login(users[role])
    assert client.get("/exchange/").status_code == status


@pytest.mark.parametrize("page, allowed", [("/exchange/school/", "principal"), ("/exchange/me/", "teacher")])
@pytest.mark.parametrize("role", ["bureau", "district", "auditor", "principal", "teacher"])
def test_principal_and_teacher_pages_per_role(client, users, page, allowed, role):
    client.force_login(users[role])
    assert client.get(page).status_code == (200 if role == allowed else 403)


def test_principal_proposes_through_the_page(client, world):
    w = world
    client.force_login(w["principal"])
    page = client.get(f"/exchange/school/?year={YEAR}").content.decode()
    assert "E1" in page and "最低交流 <strong>1</strong>" in page
    client.post("/exchange/propose/", {"year": YEAR, "teacher": w["t"].pk, "form": "cluster", "receiving_school": w["away"].pk})
    assert Proposal.objects.get().status == "proposed"
    client.force_login(w["district"])
    proposal = Proposal.objects.get()
    client.post(f"/exchange/proposals/{proposal.pk}/decide/", {"action": "approve"})
    assert Proposal.objects.get().status == "approved"


@pytest.mark.parametrize("role, staff_no, status", [
    ("bureau", "T3", 200), ("district", "T3", 404), ("principal", "T1", 200), ("principal", "T2", 404),
    ("teacher", "T1", 200), ("teacher", "T2", 404), ("auditor", "T2", 200)])
def test_promotion_check_api_scoped(client, users, role, staff_no, status):
    client.force_login(users[role])
    response = client.get(f"/api/exchange/promotion-check/?staff_no={staff_no}&title=高级教师&on=2026-11-23")
    assert response.status_code == status
    if status == 200:
        assert set(response.json()) == {"staff_no", "title", "on", "eligible", "missing"}


def test_promotion_check_api_validates_title(client, users):
    client.force_login(users["bureau"])
    assert client.get("/api/exchange/promotion-check/?staff_no=T1&title=教授").status_code == 400


def test_another_schools_principal_learns_nothing_of_a_proposal(client, world):
    """Issue 14: the state guard answered before the scope check, so a principal learned whether (and in
    which state) another school's proposal existed. Out of scope now looks exactly like absent."""
    w = world
    proposal = proposal_create(plan=w["plan"], teacher=w["t"], form="rural_support", receiving_school=w["away"],
                               actor=w["principal"])
    client.force_login(w["other_principal"])
    assert client.post(f"/exchange/proposals/{proposal.pk}/decide/", {"action": "withdraw"}).status_code == 404
    assert client.post("/exchange/proposals/999999/decide/", {"action": "withdraw"}).status_code == 404
    for action in ("withdraw", "propose", "approve"):  # whatever the state, the same answer
        with pytest.raises(ApplicationError, match="^您无权执行该操作。$"):
            proposal_transition(proposal=proposal, action=action, actor=w["other_principal"])
    assert Proposal.objects.get().status == "proposed"


@pytest.mark.parametrize("target, expected", [
    ("https://evil.example/phish", "/exchange/"),
    ("//evil.example/phish", "/exchange/"),
    ("/exchange/?year=2026", "/exchange/?year=2026"),
])
def test_decide_returns_only_to_a_page_of_this_site(client, world, target, expected):
    w = world
    proposal = proposal_create(plan=w["plan"], teacher=w["t"], form="rural_support", receiving_school=w["away"],
                               actor=w["principal"])
    client.force_login(w["district"])
    response = client.post(f"/exchange/proposals/{proposal.pk}/decide/", {"action": "approve", "next": target})
    assert response.status_code == 302 and response.url == expected


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_plans_opened_before_the_amendment_on_the_first_reading():
    """A plan stored before the amendment keeps the reading its figures were planned on; plans made after
    the migration read as amended."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("exchange", "0003_sec6_control_characters")], [("exchange", "0004_plan_amended_rules")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old_state = executor.loader.project_state(before).apps
        old_state.get_model("exchange", "ExchangePlan").objects.create(year=2025)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
    plan = ExchangePlan.objects.get(year=2025)
    assert plan.amended_rules is False and plan.rules().amended is False
    assert (plan.male_age_limit, plan.female_age_limit) == (55, 50)  # the stored figures are kept as they were
    assert ExchangePlan.objects.create(year=2026).amended_rules is True
