"""A held-out city (its own, not the shared `city` fixture) reproduces EX-1, EX-2 and EX-7 as amended.

Every expected figure below was worked out by hand from the rule text, not by running the code: the
reference date is 31 August 2027; ages and years are full years on it (the anniversary on the day counts).
The `exchange_plan` command's workbook is opened with openpyxl and compared cell by cell. Also: the
command on the demo city writes a workbook, and LibreOffice (when installed) opens it.
"""

import datetime as dt

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from bureau.models import Posting, SubjectQuota
from bureau.services import user_assign_role
from exchange.services import plan_open
from tests.factories import DistrictFactory, SchoolFactory, TeacherFactory, UserFactory

YEAR = 2027
D = dt.date


def person(school, staff_no, gender, birth, joined, subject, **over):
    return TeacherFactory(school=school, staff_no=staff_no, name=f"师{staff_no}", gender=gender, birth_date=birth,
                          joined_school_on=joined, employed_on=min(joined, D(birth.year + 22, 9, 1)), subject=subject,
                          **over)


def secondment(t, school, start, end, kind):
    Posting.objects.create(teacher=t, school=school, kind=kind, started_on=start, ended_on=end)


@pytest.fixture
def held_out(db):
    d = DistrictFactory(code="D9", name="河西区")
    a01 = SchoolFactory(code="A01", name="和平小学", district=d, stage="小学", location="城区", staffing_quota=6)
    a02 = SchoolFactory(code="A02", name="青山初中", district=d, stage="初中", location="镇区", staffing_quota=10)
    a03 = SchoolFactory(code="A03", name="河口九年制学校", district=d, stage="九年一贯制", location="乡村", staffing_quota=3)
    a04 = SchoolFactory(code="A04", name="河西一中", district=d, stage="高中", location="城区", staffing_quota=2)
    SchoolFactory(code="A05", name="河西幼儿园", district=d, stage="幼儿园", location="城区")
    a06 = SchoolFactory(code="A06", name="东湖小学", district=d, stage="小学", location="城区", staffing_quota=3)
    SubjectQuota.objects.create(school=a01, subject="数学", quota=2)
    SubjectQuota.objects.create(school=a02, subject="语文", quota=1)
    SubjectQuota.objects.create(school=a03, subject="英语", quota=1)
    SubjectQuota.objects.create(school=a06, subject="数学", quota=1)

    # A01: 7 active teachers against 编制数 6, overstaffed by one; 数学 5 teachers against a quota of 2.
    person(a01, "A01-01", "男", D(1972, 8, 31), D(2015, 9, 1), "数学")        # 55 on the day: in (inclusive)
    person(a01, "A01-02", "男", D(1971, 8, 31), D(2010, 9, 1), "语文")        # 56: out
    person(a01, "A01-03", "女", D(1977, 8, 31), D(2021, 8, 31), "语文")       # 50, exactly 6 years: in
    t04 = person(a01, "A01-04", "女", D(1985, 5, 5), D(2012, 9, 1), "数学")   # back exactly 6 years: in
    secondment(t04, a03, D(2020, 9, 1), D(2021, 8, 31), "exchange")
    t05 = person(a01, "A01-05", "女", D(1986, 1, 10), D(2012, 9, 1), "数学")  # back 5 years 364 days: out
    secondment(t05, a03, D(2020, 9, 2), D(2021, 9, 1), "exchange")
    person(a01, "A01-06", "女", D(1990, 3, 3), D(2023, 9, 1), "数学")         # surplus: 3rd longest free
    t07 = person(a01, "A01-07", "男", D(1988, 7, 7), D(2022, 9, 1), "数学")   # away on 31 August: out
    secondment(t07, a02, D(2026, 9, 1), D(2027, 8, 31), "partnership")
    person(a01, "A01-08", "女", D(1980, 1, 1), D(2010, 9, 1), "语文", status="退休")  # not active, not counted

    # A02 (镇区): 3 active against 10, not overstaffed: 语文 2 against a quota of 1 yields no surplus.
    person(a02, "A02-01", "女", D(1980, 2, 2), D(2019, 9, 1), "语文")         # 7 years: in
    person(a02, "A02-02", "女", D(1982, 2, 2), D(2024, 9, 1), "语文")
    person(a02, "A02-03", "男", D(1987, 6, 6), D(2021, 9, 1), "英语")         # 5 years 364 days: out

    # A03 (乡村): 4 active against 3, one over; 英语 3 teaching against 1: the two longest are surplus.
    person(a03, "A03-01", "女", D(1995, 1, 1), D(2021, 9, 1), "英语")
    person(a03, "A03-02", "男", D(1993, 1, 1), D(2022, 9, 1), "英语")
    person(a03, "A03-03", "女", D(1991, 1, 1), D(2023, 9, 1), "英语")
    person(a03, "A03-04", "女", D(1970, 1, 1), D(2000, 9, 1), "语文", is_non_teaching=True)  # EX-4, still on the books

    # A04 (高中): never listed; two teachers aged 40 for EX-7.
    t41 = person(a04, "A04-01", "女", D(1987, 11, 23), D(2016, 9, 1), "物理")
    secondment(t41, a03, D(2015, 9, 1), D(2016, 8, 31), "rural_support")      # one rural year
    person(a04, "A04-02", "女", D(1987, 11, 23), D(2016, 9, 1), "化学")

    # A06: 3 active against 3, exactly full: 数学 2 against 1 yields no surplus.
    t61 = person(a06, "A06-01", "女", D(1992, 1, 1), D(2023, 9, 1), "数学")
    secondment(t61, a03, D(2020, 9, 1), D(2021, 8, 31), "rural_support")     # one rural year
    person(a06, "A06-02", "女", D(1993, 1, 1), D(2024, 9, 1), "数学")
    person(a06, "A06-03", "男", D(1969, 1, 1), D(2000, 9, 1), "语文")         # 58: out

    bureau = UserFactory()
    user_assign_role(user=bureau, role="bureau", actor=None)
    return bureau


EXPECTED_QUOTAS = [
    ("学校代码", "学校名称", "应交流人数", "最低交流人数"),
    ("A01", "和平小学", 4, 1),
    ("A02", "青山初中", 1, 1),
    ("A03", "河口九年制学校", 2, 1),
    ("A06", "东湖小学", 0, 0),
]
EXPECTED_ELIGIBLE = [
    ("工号", "姓名", "学校代码", "性别", "年龄", "本校任职年限", "原因"),
    ("A01-01", "师A01-01", "A01", "男", 55, 11, "任职满6年"),
    ("A01-03", "师A01-03", "A01", "女", 50, 6, "任职满6年"),
    ("A01-04", "师A01-04", "A01", "女", 42, 6, "任职满6年"),   # counted from the return, not from 2012
    ("A01-06", "师A01-06", "A01", "女", 37, 3, "超编学科富余"),  # 数学 surplus 3: A01-01, A01-04 (listed), A01-06
    ("A02-01", "师A02-01", "A02", "女", 47, 7, "任职满6年"),
    ("A03-01", "师A03-01", "A03", "女", 32, 5, "超编学科富余"),
    ("A03-02", "师A03-02", "A03", "男", 34, 4, "超编学科富余"),
]


def _rows(path, sheet):
    return list(load_workbook(path)[sheet].iter_rows(values_only=True))


def test_held_out_city_workbook_reproduces_ex1_ex2_as_amended(held_out, tmp_path):
    path = tmp_path / "exchange.xlsx"
    call_command("exchange_plan", "--year", str(YEAR), "--output", str(path))
    assert load_workbook(path).sheetnames == ["学校指标", "应交流教师", "说明"]
    assert _rows(path, "学校指标") == EXPECTED_QUOTAS
    assert _rows(path, "应交流教师") == EXPECTED_ELIGIBLE

    # Once the year's plan is opened (it reads as amended), the command writes the same figures.
    plan_open(year=YEAR, actor=held_out)
    again = tmp_path / "again.xlsx"
    call_command("exchange_plan", "--year", str(YEAR), "--output", str(again))
    assert _rows(again, "学校指标") == EXPECTED_QUOTAS and _rows(again, "应交流教师") == EXPECTED_ELIGIBLE


def test_held_out_city_web_workbook_agrees_with_the_command(client, held_out):
    from io import BytesIO

    client.force_login(held_out)
    response = client.get(f"/exchange/workbook.xlsx?year={YEAR}")
    book = load_workbook(BytesIO(response.content))
    assert list(book["学校指标"].iter_rows(values_only=True)) == EXPECTED_QUOTAS
    assert list(book["应交流教师"].iter_rows(values_only=True)) == EXPECTED_ELIGIBLE


# Hand-worked EX-7 verdicts on 23 November 2027 for 高级教师 (and one 一级教师).
EX7 = [
    ("A02-03", "高级教师", 2),  # 镇区 初中, 40, no rural or weak years: both requirements missing
    ("A04-01", "高级教师", 0),  # 城区 高中, 40, one rural year: the two-year rule is not for senior high
    ("A04-02", "高级教师", 1),  # 城区 高中, 40, nothing: only the 一级教师 requirement is missing
    ("A06-01", "高级教师", 1),  # 城区 小学, 35, one rural year: the two-year rule misses one year
    ("A01-03", "高级教师", 1),  # 城区 小学, 50: only the 一级教师 requirement
    ("A02-01", "一级教师", 1),  # 镇区 初中: checked (城镇 includes 镇区)
    ("A03-01", "高级教师", 0),  # 乡村: never checked
]


@pytest.mark.parametrize("staff_no, title, missing", EX7)
def test_held_out_city_ex7_verdicts_as_amended(client, held_out, staff_no, title, missing):
    client.force_login(held_out)
    answer = client.get("/api/exchange/promotion-check/", {"staff_no": staff_no, "title": title, "on": "2027-11-23"}).json()
    assert (answer["eligible"], len(answer["missing"])) == (missing == 0, missing)
    if staff_no == "A06-01":
        assert answer["missing"] == ["乡村学校任教满2年（义务教育学校40周岁及以下申报高级教师）：已有1年，还差1年"]


@pytest.fixture
def demo_workbook(db, tmp_path):
    call_command("seed_demo", "--teachers", "120", "--seed", "11")
    path = tmp_path / "demo-exchange.xlsx"
    call_command("exchange_plan", "--year", "2026", "--output", str(path))
    return path


def test_exchange_plan_on_the_demo_city_writes_a_workbook(demo_workbook):
    book = load_workbook(demo_workbook)
    assert book.sheetnames == ["学校指标", "应交流教师", "说明"]
    quotas = list(book["学校指标"].iter_rows(values_only=True))
    eligible = list(book["应交流教师"].iter_rows(values_only=True))
    assert quotas[0] == EXPECTED_QUOTAS[0] and eligible[0] == EXPECTED_ELIGIBLE[0]
    assert len(quotas) > 1 and len(eligible) > 1
    assert sum(row[2] for row in quotas[1:]) == len(eligible) - 1


def test_demo_workbook_opens_in_libreoffice(demo_workbook, tmp_path):
    from tests.libreoffice import first_sheet_rows

    rows = first_sheet_rows(demo_workbook, tmp_path)
    assert rows[0] == ["学校代码", "学校名称", "应交流人数", "最低交流人数"]
    assert len(rows) == load_workbook(demo_workbook)["学校指标"].max_row  # every school row came through


def test_overview_and_school_pages_query_counts_do_not_grow_with_the_city(client, held_out, django_assert_max_num_queries):
    client.force_login(held_out)
    with django_assert_max_num_queries(15):
        page = client.get(f"/exchange/?year={YEAR}")
    assert page.status_code == 200
    rows = page.content.decode()
    assert "A01" in rows and "A05" not in rows  # exchange-stage schools only
