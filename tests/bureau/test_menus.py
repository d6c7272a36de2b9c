"""Every link of a role's menu opens for that role (CONVENTIONS habit 19: nobody sees a link that answers 403),
groups' pages included; no page a menu links to shows a rule id; district staff reach 名额分配."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.urls import reverse

from bureau.choices import Role
from bureau.templatetags.menu import MENUS, menu_for, menu_kind, menu_link_names
from tests.factories import UserFactory
from training.models import Project, ProjectShare

ROLES = [("bureau", "bureau"), ("superuser", "bureau"), ("district", "district"), ("principal", "principal"),
         ("teacher", "teacher"), ("auditor", "staff_reports")]
RULE_ID = re.compile(r"\b(CR|EX|BB|SEC|PERF)-\d")


def _walk(client, user):
    client.force_login(user)
    pages = {}
    for label, name in menu_link_names(user):
        response = client.get(reverse(name), follow=True)  # the city dashboard sends a district to its own
        pages[(label, name)] = response
    return pages


@pytest.mark.parametrize("role, kind", ROLES)
def test_every_menu_link_of_a_role_opens(client, users, role, kind):
    user = users[role]
    assert menu_kind(user) == kind
    pages = _walk(client, user)
    assert pages
    for (label, name), response in pages.items():
        assert response.status_code == 200, (role, label, name, response.status_code)


def test_a_staff_account_without_a_role_sees_only_what_opens(client, db):
    user = UserFactory(username="plainstaff", is_staff=True)
    assert menu_kind(user) == "staff"
    for label, name in menu_link_names(user):
        client.force_login(user)
        assert client.get(reverse(name), follow=True).status_code == 200, (label, name)


@pytest.mark.parametrize("role, kind", ROLES)
def test_no_page_a_menu_links_to_shows_a_rule_id(client, users, role, kind):
    for (label, name), response in _walk(client, users[role]).items():
        found = RULE_ID.search(response.content.decode())
        assert found is None, (role, label, name, found and found.group(0))


def test_the_menu_shows_a_groups_pages_on_its_pages(client, users):
    client.force_login(users["bureau"])
    html = client.get(reverse("credits:reports")).content.decode()
    for name in ("province:reports", "credits:amendments", "claims:turnaround", "training:appeals-report"):
        assert f'class="sub" href="{reverse(name)}"' in html, name
    assert f'class="sub" href="{reverse("credits:reports")}" aria-current="page"' in html
    # elsewhere the group is one item, and the bureau's menu stays short
    html = client.get(reverse("exchange:overview")).content.decode()
    assert f'href="{reverse("province:reports")}"' not in html
    assert len(menu_for("bureau", Role.BUREAU)) <= 8


def test_an_auditor_never_sees_a_review_queue_but_reaches_the_reports(users):
    names = {name for _, name in menu_link_names(users["auditor"])}
    assert not names & {"claims:review", "training:appeals-queue", "credits:exemptions"}
    assert {"credits:reports", "credits:amendments", "province:reports", "claims:turnaround",
            "training:appeals-report"} <= names


@pytest.mark.parametrize("role", ["bureau", "superuser", "auditor"])
def test_who_verifies_certificates_finds_both_checks_in_the_menu(client, users, role):
    """Issue 19: the credential file check (/credentials/verify/) where the bureau and auditors look for it,
    grouped with the check by certificate number; on either page the group shows both."""
    names = [name for _, name in menu_link_names(users[role])]
    assert "verify-lookup" in names and "credential-verify" in names
    client.force_login(users[role])
    home = client.get(reverse("credits:city-dashboard")).content.decode()
    assert f'href="{reverse("verify-lookup")}">证书查验</a>' in home
    page = client.get("/credentials/verify/").content.decode()
    assert 'class="sub" href="/credentials/verify/" aria-current="page">验证凭证文件</a>' in page
    assert f'class="sub" href="{reverse("verify-lookup")}">证书查验</a>' in page


@pytest.mark.parametrize("role", ["teacher", "principal", "district"])
def test_the_other_roles_menus_stay_without_the_checks(users, role):
    names = {name for _, name in menu_link_names(users[role])}
    assert not names & {"verify-lookup", "credential-verify"}


def test_no_page_was_lost_when_menus_were_grouped():
    flat = {kind: {(n if isinstance(n, str) else None) for _, n in entries} | {
        name for _, n in entries if not isinstance(n, str) for _, name in n} for kind, entries in MENUS.items()}
    assert {"training:organise-projects", "credits:exemptions", "credits:district-hours", "training:organise-enrolments",
            "claims:review", "claims:turnaround", "training:appeals-queue", "training:appeals-report"} <= flat["district"]
    assert {"training:organise-projects", "credits:school-exemptions", "training:school-enrolments", "credits:school-hours",
            "claims:school", "training:appeals-queue", "backbone:school", "backbone:roster"} <= flat["principal"]
    assert {"credits:city-dashboard", "credits:short-list", "training:organise-projects", "training:organise-enrolments",
            "credits:exemptions", "exchange:overview", "backbone:plan", "backbone:manage", "backbone:roster",
            "claims:review", "training:appeals-queue", "credits:reports", "credits:amendments", "province:reports",
            "admin:index"} <= flat["bureau"]
    assert {"credits:portal", "credits:transcript", "my-certificates", "training:projects", "credits:hours",
            "claims:mine", "training:appeals-mine", "exchange:me", "backbone:rounds"} <= flat["teacher"]


def test_district_staff_reach_the_shares_of_a_project_that_gave_their_district_seats(client, users, city):
    project = Project.objects.create(
        code="P9", name="新课标研修", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
        start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="市教师发展中心", status="enrolling",
        capacity=10)
    ProjectShare.objects.create(project=project, district=city["districts"][0], seats=4)
    other = Project.objects.create(
        code="P8", name="别区研修", level="市培", mode="集中面授", kind="必修", theme="学科教学", hours=D("24"),
        start_on=dt.date(2026, 12, 1), end_on=dt.date(2026, 12, 5), organiser="市教师发展中心", status="enrolling")
    ProjectShare.objects.create(project=other, district=city["districts"][1], seats=4)
    client.force_login(users["district"])
    menu_page = reverse(dict(menu_link_names(users["district"]))["培训项目"])
    html = client.get(menu_page).content.decode()
    shares = reverse("training:shares", args=[project.pk])
    assert f'href="{shares}"' in html
    assert reverse("training:shares", args=[other.pk]) not in html
    response = client.get(shares)
    assert response.status_code == 200
    assert "名额" in response.content.decode()
    # the bureau's project hub links the same page
    client.force_login(users["bureau"])
    assert f'href="{shares}"' in client.get(reverse("training:organise-project", args=[project.pk])).content.decode()


def test_a_link_the_role_may_not_open_is_never_shown(users, monkeypatch):
    """The menu asks the view's own role_required: a review queue listed for teachers by mistake is
    dropped, a link the role may open stays."""
    from bureau.templatetags import menu

    monkeypatch.setitem(menu.MENUS, "teacher", [*MENUS["teacher"], ("认定审核", "claims:review"),
                                                ("审核", [("学时审核", "credits:school-hours"), ("报名", "training:projects")])])
    menu.menu_for.cache_clear()
    try:
        names = [name for _, name in menu_link_names(users["teacher"])]
        assert "claims:review" not in names and "credits:school-hours" not in names
        assert names.count("training:projects") == 2  # the group left with one page is a plain link
        assert ("报名", (("报名", "training:projects"),)) in menu_for("teacher", Role.TEACHER)
    finally:
        menu.menu_for.cache_clear()
