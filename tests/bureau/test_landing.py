"""Issue 17 item 6: the landing page for anonymous visitors, the user guide per role, the certificate check.

Signed-in users keep going where `/` sent them before (bureau.views.home)."""

import pytest
from django.urls import reverse

from bureau.landing import GUIDES

ROLES = ["teacher", "principal", "district", "bureau", "auditor"]


def test_landing_page_answers_anonymously_with_a_guide_per_role_and_the_certificate_check(client, db,
                                                                                            django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "教师发展平台" in page and reverse("login") in page
    for role in ROLES:
        assert f'href="/guide/{role}/"' in page
    assert f'href="{reverse("verify-lookup")}"' in page and f'action="{reverse("verify-lookup")}"' in page
    assert 'href="/credentials/verify/" id="credential-verify-link"' in page  # the Open Badges file check
    assert set(GUIDES) == set(ROLES)


def test_the_two_certificate_checks_link_each_other(client, db):
    assert 'href="/credentials/verify/"' in client.get(reverse("verify-lookup")).content.decode()
    assert f'href="{reverse("verify-lookup")}"' in client.get("/credentials/verify/").content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_each_guide_answers_anonymously_and_links_the_others(client, db, role, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = client.get(f"/guide/{role}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{GUIDES[role][0]}使用指南" in page
    for other in ROLES:
        if other != role:
            assert f'href="/guide/{other}/"' in page


def test_unknown_guide_is_404(client, db):
    assert client.get("/guide/nobody/").status_code == 404


@pytest.mark.parametrize("role, target", [
    ("teacher", "credits:portal"),
    ("principal", "credits:school-dashboard"),
    ("district", "credits:city-dashboard"),
    ("bureau", "credits:city-dashboard"),
    ("auditor", "credits:city-dashboard"),
])
def test_signed_in_users_go_where_they_went_before(client, users, role, target):
    client.force_login(users[role])
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse(target)


def test_guides_are_readable_signed_in_too(client, users):
    client.force_login(users["teacher"])
    assert client.get("/guide/teacher/").status_code == 200


def test_certificate_check_form_goes_to_the_verify_page(client, db):
    response = client.get(reverse("verify-lookup"))
    assert response.status_code == 200 and 'name="code"' in response.content.decode()
    response = client.get(reverse("verify-lookup"), {"code": " ab12cd34 "})
    assert response.status_code == 302 and response["Location"] == reverse("verify", args=["AB12CD34"])
    response = client.get(reverse("verify-lookup"), {"code": "<script>"})
    assert response.status_code == 200 and "证书编号只含字母" in response.content.decode()
