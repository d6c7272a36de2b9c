"""SEC-5: rate limits key on the client address the trusted proxy reports (bureau.clientip)."""

import pytest
from django.test import RequestFactory

from bureau.clientip import client_ip

VERIFY = "/verify/ABCDEFGHJKMN/"  # no such certificate: 404 until the allowance (30 a minute) is spent


def spend(client, n, **headers):
    return [client.get(VERIFY, **headers).status_code for _ in range(n)]


def test_two_clients_behind_the_trusted_proxy_get_separate_allowances(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    first = spend(client, 31, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert first[:30] == [404] * 30 and first[30] == 429
    assert spend(client, 1, HTTP_X_FORWARDED_FOR="198.51.100.2") == [404]


def test_without_a_trusted_proxy_a_spoofed_header_gets_no_new_allowance(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert spend(client, 30, HTTP_X_FORWARDED_FOR="198.51.100.1") == [404] * 30
    assert spend(client, 1, HTTP_X_FORWARDED_FOR="198.51.100.2") == [429]


def test_behind_one_proxy_a_client_written_entry_is_not_trusted(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    spend(client, 30, HTTP_X_FORWARDED_FOR="198.51.100.1")
    # the client sends its own X-Forwarded-For; the proxy appends the real address after it
    assert spend(client, 1, HTTP_X_FORWARDED_FOR="192.0.2.77, 198.51.100.1") == [429]


@pytest.mark.parametrize("count, header, expected", [
    (0, "203.0.113.9", "10.0.0.1"),
    (1, "", "10.0.0.1"),
    (1, "203.0.113.9", "203.0.113.9"),
    (1, "1.1.1.1, 203.0.113.9", "203.0.113.9"),
    (2, "1.1.1.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
    (2, "203.0.113.9", "10.0.0.1"),  # fewer hops than trusted proxies: only the connection is known
    (1, "not-an-address", "10.0.0.1"),
    (1, "2001:db8::1", "2001:db8::1"),
])
def test_client_ip_honours_the_trusted_proxy_count(settings, count, header, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected
