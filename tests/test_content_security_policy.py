"""SEC-5: every page carries the content security policy, including pages served from the page cache."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def assert_policy(response):
    policy = {part.split()[0]: part.split()[1:] for part in response.headers["Content-Security-Policy"].split("; ")}
    assert policy["default-src"] == policy["script-src"] == policy["style-src"] == ["'self'"], policy
    assert policy["object-src"] == policy["frame-ancestors"] == ["'none'"], policy
    # inline code nowhere; inline style attributes only (progress bar widths)
    assert [d for d, sources in policy.items() if "'unsafe-inline'" in sources] == ["style-src-attr"], policy


def test_login_page_has_the_policy(client, db):
    assert_policy(client.get("/accounts/login/"))


@pytest.mark.parametrize("role, url", [
    ("teacher", "/portal/"), ("principal", "/school/"), ("bureau", "/admin/"), ("bureau", "/api/docs/"),
    ("bureau", "/api/projects/"),
])
def test_signed_in_pages_have_the_policy_twice_over(client, users, role, url):
    client.force_login(users[role])
    first, second = client.get(url), client.get(url)  # the second may come from the page cache
    assert first.status_code == second.status_code == 200
    assert_policy(first)
    assert_policy(second)


def test_no_template_has_an_inline_script_or_handler():
    """Inline scripts would be refused by the browser; json_script data blocks are not scripts."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\son[a-z]+=\"", text):
            offenders.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)}")
    assert not offenders, offenders
