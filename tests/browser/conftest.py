"""Real-browser tests: Playwright (sync API) drives Debian's headless Chromium against pytest-django's live_server.

How to write one (see test_admin_import.py):

    def test_something(page):             # `page` brings the live server and a fresh browser context
        page.goto("/admin/")              # paths are relative to live_server.url
        ...

- Every test in this folder is marked `browser` (`-m browser` runs only these, `-m "not browser"` skips them).
- Using `page` (or `live_server`) makes the test transactional (pytest-django's transactional_db): rows the test
  creates are committed, so the server thread sees them, and the test sees what the server wrote. The tables are
  flushed after the test. Fixtures written for these tests should ask for `transactional_db` to say so (one that
  asks for `db` gets the transactional one too, since the test uses live_server).
- Keep browser tests in this folder: the browser, and the DJANGO_ALLOW_ASYNC_UNSAFE that Playwright's sync API
  needs, live only from the first of these tests to the last (see `browser`).
- The live server serves static files from the finders (StaticFilesHandler), so the admin CSS loads as in dev.
- Chromium is Debian's /usr/bin/chromium (scripts/ensure_chromium.sh installs it; `make test` runs that). Never run
  `playwright install`: this machine cannot download a browser.
- Every test fails on a content security policy violation (a console error from Chromium); `page.csp_violations`
  holds them so far.
- On a failing test, a full-page screenshot is written to $BROWSER_ARTIFACTS (default /tmp/browser-artifacts).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine has no network beyond the package registries: keep Chromium from calling home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", "/tmp/browser-artifacts"))
DEFAULT_TIMEOUT_MS = 15_000

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"_browser_report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def browser():
    """One Chromium for all the browser tests; closed after the last of them (see below why not later)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/ensure_chromium.sh` (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio event loop running on this thread (in a greenlet) from start to
    # stop; meanwhile Django refuses every ORM call from the test thread (SynchronousOnlyOperation). The test
    # code is plain synchronous code, so that check is a false alarm here and is switched off, but only while
    # Playwright runs: set for the whole session, the variable leaked into `manage.py check --deploy` run by
    # tests/test_settings.py (async.E001). For the same reason the browser is package-scoped, not
    # session-scoped: pytest-django runs these (transactional) tests together, and closing Playwright after
    # them stops its loop before the rest of the suite runs.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                yield browser
            finally:
                browser.close()


@pytest.fixture
def page(browser, live_server, request):
    """A page in a fresh context (no cookies), with relative URLs resolved against the live server."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    # SEC-5: whatever a browser test does, nothing on the page is refused by the content security policy
    # (Chromium reports each refusal as a console error naming the policy).
    violations = page.csp_violations = []
    page.on("console", lambda m: violations.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text else None)
    try:
        yield page
    finally:
        report = getattr(request.node, "_browser_report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            target = ARTIFACTS / f"{request.node.name}.png"
            try:
                page.screenshot(path=str(target), full_page=True)
                print(f"screenshot of the failing page: {target}")
            except Exception as exc:  # the page may be gone; the test's own failure is what matters
                print(f"no screenshot: {exc}")
        context.close()
    assert not violations, "content security policy violations:\n" + "\n".join(violations)
