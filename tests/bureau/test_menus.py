"""Every link of a role's menu opens for that role (CONVENTIONS habit 19: nobody sees a link that answers 403)."""

import pytest
from django.urls import reverse

from bureau.templatetags.menu import MENUS, menu_kind


@pytest.mark.parametrize("role, kind", [
    ("bureau", "bureau"), ("superuser", "bureau"), ("district", "district"), ("principal", "principal"),
    ("teacher", "teacher"), ("auditor", "staff_reports")])
def test_every_menu_link_of_a_role_opens(client, users, role, kind):
    user = users[role]
    assert menu_kind(user) == kind
    client.force_login(user)
    for label, name in MENUS[kind]:
        response = client.get(reverse(name), follow=True)  # the city dashboard sends a district to its own
        assert response.status_code == 200, (role, label, name, response.status_code)


def test_organisers_find_their_new_pages_in_the_menu():
    names = {kind: {name for _, name in links} for kind, links in MENUS.items()}
    assert {"training:organise-projects", "credits:exemptions", "credits:district-hours"} <= names["district"]
    assert {"training:organise-projects", "credits:school-exemptions"} <= names["principal"]
    assert {"training:organise-projects", "credits:exemptions"} <= names["bureau"]
