"""simple_history's history and version pages held to the change page's rules (issue 14, critical).

An auditor (read-only) once reverted the 2026 policy to 1 credit, a project to 100,000 seats and a
result to 不合格 through /admin/<app>/<model>/<id>/history/<version>/: the version page saved a POST
after checking only the view permission. Every admin with history now uses GuardedHistoryAdmin.
"""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.contrib import admin
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from bureau.admin_base import GuardedHistoryAdmin
from credits.models import LedgerEntry, Policy
from training.models import Project, Result
from training.services import result_record


def test_every_admin_with_history_is_guarded():
    with_history = [m for m, model_admin in admin.site._registry.items() if isinstance(model_admin, SimpleHistoryAdmin)]
    assert len(with_history) >= 5  # teacher, school, policy, project, result
    for model in with_history:
        assert isinstance(admin.site._registry[model], GuardedHistoryAdmin), model


def _version_url(obj, version):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[obj.pk, version.history_id])


@pytest.fixture
def policy(db):
    policy = Policy.objects.create(year=2026)
    policy.annual_credits = D("80")
    policy.save()
    return policy


@pytest.fixture
def project(db):
    project = Project.objects.create(
        code="P1", name="信息技术能力提升", level="市培", mode="网络研修", kind="必修", theme="信息技术",
        hours=D("30"), credits=D("12"), start_on=dt.date(2026, 3, 1), end_on=dt.date(2026, 6, 30),
        organiser="市教师发展中心", capacity=50,
    )
    project.capacity = 60
    project.save()
    return project


def _post_revert(client, user, obj, data):
    client.force_login(user)
    first = obj.history.order_by("history_id").first()
    return client.post(_version_url(obj, first), data)


@pytest.mark.parametrize("role", ["auditor", "bureau", "district", "principal"])
def test_policy_is_never_reverted_from_its_history(client, users, policy, role):
    data = {"year": 2026, "annual_credits": "1", "cycle_hours": "360", "cycle_years": "5", "first_cycle_start": "2021",
            "flag_threshold": "0.2", "min_school_based_hours": "16", "min_ethics_hours": "12", "credits_per_hour": "1",
            "target_participation": "0.9", "target_pass": "0.9", "target_compliance": "0.9", "claim_max_wait_days": "30"}
    response = _post_revert(client, users[role], policy, data)
    assert response.status_code in (302, 403)
    policy.refresh_from_db()
    assert policy.annual_credits == D("80")


@pytest.mark.parametrize("role", ["auditor", "bureau"])
def test_project_is_never_reverted_from_its_history(client, users, project, role):
    response = _post_revert(client, users[role], project, {"capacity": "100000"})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.capacity == 60


@pytest.mark.parametrize("role", ["auditor", "bureau"])
def test_result_is_never_reverted_from_its_history(client, users, city, project, role):
    teacher = city["teachers"][0]
    result, _ = result_record(project=project, teacher=teacher, grade="合格", completed_on=dt.date(2026, 6, 30),
                              certified_hours=None, actor=users["bureau"])
    response = _post_revert(client, users[role], result, {"grade": "不合格", "completed_on": "2026-06-30"})
    assert response.status_code == 403
    result.refresh_from_db()
    assert result.grade == "合格"
    assert LedgerEntry.objects.filter(reverses__isnull=False).count() == 0


def test_auditor_still_reads_the_history_and_its_versions(client, users, policy):
    client.force_login(users["auditor"])
    first = policy.history.order_by("history_id").first()
    assert client.get(reverse("admin:credits_policy_history", args=[policy.pk])).status_code == 200
    response = client.get(_version_url(policy, first))
    assert response.status_code == 200
    assert "恢复" not in response.content.decode() or 'name="_save"' not in response.content.decode()


def test_a_result_outside_the_scope_has_no_history_page(client, users, city, project):
    other = city["teachers"][2]  # the second district
    result, _ = result_record(project=project, teacher=other, grade="合格", completed_on=dt.date(2026, 6, 30),
                              certified_hours=None, actor=users["bureau"])
    client.force_login(users["district"])
    response = client.get(reverse("admin:training_result_history", args=[result.pk]))
    assert response.status_code in (302, 403)
    assert Result.objects.filter(pk=result.pk, grade="合格").exists()
