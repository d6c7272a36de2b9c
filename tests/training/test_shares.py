"""名额分配: shares never exceed the level above, approvals stop at a unit's share (also concurrently),
the release date at its edge, the quotas.xlsx import, the page per role."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bureau.services import ApplicationError, user_assign_role
from tests.factories import SchoolFactory, TeacherFactory, UserFactory
from tests.xlsx import write_xlsx
from training.models import Enrolment, Project, ProjectShare
from training.services import enrolment_transition
from training.shares import school_seats, share_set

TODAY = dt.date(2026, 11, 23)


def make_project(**over):
    values = dict(code="P1", name="新课标研修", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
                  start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="市教师发展中心",
                  status="enrolling", capacity=10)
    values.update(over)
    return Project.objects.create(**values)


def school_approved(project, teacher):
    return Enrolment.objects.create(project=project, teacher=teacher, state="school_approved")


def test_district_shares_never_exceed_capacity(users, city):
    project = make_project()
    d1, d2 = city["districts"]
    share_set(project=project, district=d1, seats=6, actor=users["bureau"])
    with pytest.raises(ApplicationError, match="各区县名额合计 11 超过项目名额 10"):
        share_set(project=project, district=d2, seats=5, actor=users["bureau"])
    share_set(project=project, district=d2, seats=4, actor=users["bureau"])  # exactly the capacity


def test_a_district_splits_its_own_county_project_among_its_schools(users, city):
    """A district is the organiser of its 县培 project: its schools share the project's seats directly."""
    d1 = city["districts"][0]
    s1, s2 = city["schools"][:2]
    project = make_project(level="县培", owner_district=d1, capacity=3)
    share_set(project=project, school=s1, seats=1, actor=users["district"])
    share_set(project=project, school=s2, seats=2, actor=users["district"])  # exactly the capacity
    with pytest.raises(ApplicationError, match="各校名额合计 4 超过项目名额 3"):
        share_set(project=project, school=s2, seats=3, actor=users["district"])
    t1, t2 = city["teachers"][:2]
    other = TeacherFactory(school=s1)
    enrolment_transition(enrolment=school_approved(project, t1), action="approve", actor=users["district"], today=TODAY)
    with pytest.raises(ApplicationError, match="本校名额（1 个）已用完"):
        enrolment_transition(enrolment=school_approved(project, other), action="approve", actor=users["district"],
                             today=TODAY)
    enrolment_transition(enrolment=school_approved(project, t2), action="approve", actor=users["district"], today=TODAY)


def test_school_shares_never_exceed_the_district_share(users, city):
    project = make_project()
    d1 = city["districts"][0]
    s1, s2 = city["schools"][:2]
    with pytest.raises(ApplicationError, match="尚未分到名额"):
        share_set(project=project, school=s1, seats=1, actor=users["district"])
    share_set(project=project, district=d1, seats=3, actor=users["bureau"])
    share_set(project=project, school=s1, seats=2, actor=users["district"])
    with pytest.raises(ApplicationError, match="各校名额合计 4 超过本区县名额 3"):
        share_set(project=project, school=s2, seats=2, actor=users["district"])
    with pytest.raises(ApplicationError, match="已分到各校 2 个名额"):
        share_set(project=project, district=d1, seats=1, actor=users["bureau"])
    with pytest.raises(ApplicationError, match="只能分配本区县学校"):
        share_set(project=project, school=city["schools"][2], seats=1, actor=users["district"])
    with pytest.raises(ApplicationError, match="由市教育局"):
        share_set(project=project, district=d1, seats=5, actor=users["district"])


def test_approvals_stop_at_the_school_share(users, city):
    project = make_project()
    share_set(project=project, district=city["districts"][0], seats=5, actor=users["bureau"])
    share_set(project=project, school=city["schools"][0], seats=1, actor=users["district"])
    first = school_approved(project, city["teachers"][0])
    enrolment_transition(enrolment=first, action="approve", actor=users["bureau"], today=TODAY)
    second = school_approved(project, TeacherFactory(school=city["schools"][0]))
    with pytest.raises(ApplicationError, match="本校名额（1 个）已用完"):
        enrolment_transition(enrolment=second, action="approve", actor=users["bureau"], today=TODAY)
    # S2 has no school share while the district has split its seats: no approval before release
    other = school_approved(project, city["teachers"][1])
    with pytest.raises(ApplicationError, match="本校没有分到"):
        enrolment_transition(enrolment=other, action="approve", actor=users["bureau"], today=TODAY)
    # a district without a share
    outside = school_approved(project, city["teachers"][2])
    with pytest.raises(ApplicationError, match="本区县没有分到"):
        enrolment_transition(enrolment=outside, action="approve", actor=users["bureau"], today=TODAY)


def test_release_date_edge_opens_the_pool(users, city):
    project = make_project(shares_release_on=TODAY)
    share_set(project=project, district=city["districts"][0], seats=1, actor=users["bureau"])
    outside = school_approved(project, city["teachers"][2])
    with pytest.raises(ApplicationError, match="本区县没有分到"):
        enrolment_transition(enrolment=outside, action="approve", actor=users["bureau"], today=TODAY - dt.timedelta(days=1))
    enrolment_transition(enrolment=outside, action="approve", actor=users["bureau"], today=TODAY)
    assert school_seats(project=project, school=city["schools"][2], today=TODAY).pooled


def test_capacity_still_caps_the_pool(users, city):
    project = make_project(capacity=1, shares_release_on=TODAY)
    share_set(project=project, district=city["districts"][0], seats=1, actor=users["bureau"])
    enrolment_transition(enrolment=school_approved(project, city["teachers"][0]), action="approve", actor=users["bureau"], today=TODAY)
    with pytest.raises(ApplicationError, match="项目名额（1 个）已满"):
        enrolment_transition(enrolment=school_approved(project, city["teachers"][2]), action="approve",
                             actor=users["bureau"], today=TODAY)


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_exceed_a_share():
    school = SchoolFactory()
    bureau = UserFactory()
    user_assign_role(user=bureau, role="bureau", actor=None)
    project = make_project(capacity=20)
    share_set(project=project, district=school.district, seats=2, actor=bureau)
    enrolments = [school_approved(project, TeacherFactory(school=school)) for _ in range(6)]
    barrier = threading.Barrier(len(enrolments))
    outcomes = []

    def approve(enrolment):
        try:
            barrier.wait()
            enrolment_transition(enrolment=enrolment, action="approve", actor=bureau, today=TODAY)
            outcomes.append("ok")
        except ApplicationError:
            outcomes.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(e,)) for e in enrolments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["full"] * 4 + ["ok"] * 2
    assert Enrolment.objects.filter(project=project, state="approved").count() == 2


HEADERS = ["项目编号", "单位代码", "名额"]


def test_quotas_import_validates_sums_and_is_idempotent(db, city, tmp_path, capsys):
    make_project()
    rows = [["P1", "D1", 6], ["P1", "D2", 4], ["P1", "S1", 4], ["P1", "S2", 2]]
    call_command("import_quotas", write_xlsx(tmp_path / "q.xlsx", HEADERS, rows))
    assert ProjectShare.objects.count() == 4
    call_command("import_quotas", write_xlsx(tmp_path / "q.xlsx", HEADERS, rows))
    assert "新增 0，更新 0，无变化 4" in capsys.readouterr().out
    bad = [["P1", "D2", 5], ["P1", "S2", 3], ["P1", "X9", 1], ["P9", "D1", 1]]
    with pytest.raises(CommandError):
        call_command("import_quotas", write_xlsx(tmp_path / "q.xlsx", HEADERS, bad))
    err = capsys.readouterr().err
    assert "第2行 名额: 各区县名额合计 11 超过项目名额 10" in err
    assert "第3行 名额: 本区县各校名额合计 7 超过区县名额 6" in err
    assert "第4行 单位代码: “X9”既不是区县代码也不是学校代码" in err
    assert "第5行 项目编号: “P9”项目不存在" in err


@pytest.mark.parametrize("role, get_status, post_ok", [
    ("anonymous", 302, False), ("bureau", 200, True), ("district", 200, True), ("auditor", 200, False),
    ("principal", 403, False), ("teacher", 403, False)])
def test_shares_page_per_role(client, users, city, role, get_status, post_ok):
    project = make_project()
    if role != "anonymous":
        client.force_login(users[role])
    url = f"/projects/{project.pk}/shares/"
    assert client.get(url).status_code == get_status
    if role == "district":
        share_set(project=project, district=city["districts"][0], seats=3, actor=users["bureau"])
        client.post(url, {f"s-{city['schools'][0].pk}": "2"})
        assert ProjectShare.objects.get(school=city["schools"][0]).seats == 2
    elif role == "bureau":
        client.post(url, {f"d-{city['districts'][0].pk}": "7"})
        assert ProjectShare.objects.get(district=city["districts"][0]).seats == 7
    elif role == "auditor":
        assert client.post(url, {f"d-{city['districts'][0].pk}": "7"}).status_code == 403


def test_principal_sees_school_share_and_seats_left(client, users, city):
    project = make_project()
    share_set(project=project, district=city["districts"][0], seats=3, actor=users["bureau"])
    share_set(project=project, school=city["schools"][0], seats=2, actor=users["district"])
    client.force_login(users["principal"])
    page = client.get("/school/enrolments/").content.decode()
    assert '<td class="num">2</td>\n      <td class="num">0</td><td class="num">2</td>' in page
