"""Browser tests: Playwright driving Debian's Chromium against the app served by a live server on
127.0.0.1. Each test fails on a JavaScript error in the console, and on any Content-Security-Policy
violation whatever it allows, and leaves a screenshot in test-results/ when it fails."""

import os
import re
from pathlib import Path

import pytest

from tests.e2e.threaded import BrowserThread

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
PASSWORD = "pw-for-tests-1"  # tests/factories.py
# `make screenshots` sets it: the documentation images in docs/screenshots/ are taken by these tests.
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (or set CHROMIUM).")
    thread = BrowserThread()
    browser = thread.remote(
        thread.call(
            lambda: thread.playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        )
    )
    yield browser
    browser.close()
    thread.stop()


# How Chromium words a Content-Security-Policy violation in the console ("Refused to load the
# script…", "Refused to apply inline style because it violates the following Content Security Policy
# directive…"); `securitypolicyviolation` events are reported in the same words by the page script.
CSP_VIOLATION = re.compile(r"Content[- ]Security[- ]Policy|Refused to (load|execute|apply|connect|frame|create)", re.I)
# Reports each violation the page sees to the console, so that one the console itself would not
# show (a report-only or a worker's) is not missed either.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile || document.location.href}:${event.lineNumber}`;
  const what = event.blockedURI || "inline";
  console.error(`Content-Security-Policy violation: ${event.effectiveDirective} blocked ${what} (${where})`);
});
"""


class ConsoleErrors(list):
    """The page's console and JavaScript errors; a test that provokes one on purpose allows it.
    A Content-Security-Policy violation cannot be allowed: the browser tests run with the policy on."""

    def __init__(self) -> None:
        super().__init__()
        self.allowed: list[str] = []
        self.csp_violations: list[str] = []

    def append(self, text: str) -> None:
        super().append(text)
        if CSP_VIOLATION.search(text):
            self.csp_violations.append(text)

    def allow(self, text: str) -> None:
        self.allowed.append(text)

    def unexpected(self) -> list[str]:
        return [error for error in self if not any(text in error for text in self.allowed)]


@pytest.fixture
def console() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def page(browser, live_server, request, console):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = console
    # The handlers run in the browser thread, on Playwright's own objects. Violations are counted
    # whatever the message's level.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" or CSP_VIOLATION.search(message.text) else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    failed = getattr(request.node, "report_call", None) is not None and request.node.report_call.failed
    if failed:
        RESULTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.nodeid.split("::")[-1])
        page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=True)
    context.close()
    if not failed:
        assert errors.csp_violations == [], f"Content-Security-Policy violations: {errors.csp_violations}"
        assert errors.unexpected() == [], f"JavaScript errors in the console: {errors.unexpected()}"


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def document(page, name: str) -> None:
    """Keep this view as a documentation image when `make screenshots` runs the tests."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=False)
