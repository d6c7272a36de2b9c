"""SEC-5: logins are locked out after repeated failures (django-axes); the API takes no HTTP Basic."""

import base64
import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


def attempt(client, password, url=LOGIN, username="bureau", **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


@pytest.fixture
def bureau_user(users):
    return users["bureau"]


def test_limit_is_ten_failures_for_thirty_minutes():
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.AXES_COOLOFF_TIME == dt.timedelta(minutes=30)


def test_right_password_after_the_limit_is_refused_with_a_chinese_message(client, bureau_user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "wrong").status_code == 200  # the form again, with its error
    locked = attempt(client, "wrong")
    assert locked.status_code == 429
    refused = attempt(client, "pw-for-tests")
    assert refused.status_code == 429 and not logged_in(refused)
    assert "登录已锁定" in refused.content.decode() and "30 分钟" in refused.content.decode()


def test_a_hundred_wrong_passwords_then_the_right_one_does_not_log_in(client, bureau_user):
    for _ in range(100):
        attempt(client, "wrong")
    assert not logged_in(attempt(client, "pw-for-tests"))


def test_axes_reset_lets_them_in_again(client, bureau_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")
    assert attempt(client, "pw-for-tests").status_code == 429
    call_command("axes_reset", verbosity=0)
    assert logged_in(attempt(client, "pw-for-tests"))


def test_cool_off_lets_them_in_again(client, bureau_user):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            attempt(client, "wrong")
        clock.shift(dt.timedelta(minutes=29))
        assert attempt(client, "pw-for-tests").status_code == 429
        clock.shift(dt.timedelta(minutes=31))  # the refused try above restarted the cool-off
        assert logged_in(attempt(client, "pw-for-tests"))


def test_lockout_is_per_username_and_address(client, bureau_user, users):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")
    assert logged_in(attempt(client, "pw-for-tests", REMOTE_ADDR="10.0.0.2"))  # same user, another address
    client.logout()
    assert logged_in(attempt(client, "pw-for-tests", username="district"))  # same address, another user


def test_success_clears_the_count(client, bureau_user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "wrong")
    assert logged_in(attempt(client, "pw-for-tests"))
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "wrong")
    assert logged_in(attempt(client, "pw-for-tests"))


def test_admin_login_is_locked_out_too(client, users):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong", url=ADMIN_LOGIN, username="root")
    refused = attempt(client, "pw-for-tests", url=ADMIN_LOGIN, username="root")
    assert refused.status_code == 429 and not logged_in(refused)
    # and the lock holds on the site's own form for the same username and address
    assert attempt(client, "pw-for-tests", username="root").status_code == 429


def test_behind_a_trusted_proxy_the_lockout_keys_on_the_forwarded_address(client, bureau_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert attempt(client, "pw-for-tests", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    # another citizen behind the same proxy is not locked out with them
    assert logged_in(attempt(client, "pw-for-tests", HTTP_X_FORWARDED_FOR="203.0.113.6"))


def basic(username, password) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.mark.parametrize("url", ["/api/projects/", "/api/schema/"])
def test_api_refuses_http_basic_credentials(client, bureau_user, url):
    response = client.get(url, HTTP_AUTHORIZATION=basic("bureau", "pw-for-tests"))
    assert response.status_code in (401, 403)


def test_api_password_guessing_through_basic_gets_nowhere(client, bureau_user):
    for _ in range(100):
        client.get("/api/projects/", HTTP_AUTHORIZATION=basic("bureau", "wrong"))
    assert client.get("/api/projects/", HTTP_AUTHORIZATION=basic("bureau", "pw-for-tests")).status_code in (401, 403)


def test_api_works_with_a_session_and_the_docs_page_still_renders(client, bureau_user):
    client.force_login(bureau_user)
    assert client.get("/api/projects/").status_code == 200
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
