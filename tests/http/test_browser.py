"""In a real browser (headless Chromium): a page on another origin calls the mock with
`credentials: 'include'`, and /docs renders from the mock's own files.

Skipped, with the reason, when Chromium is not installed (`apt-get install chromium`; CI's
.ci/run installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_server import Contract, Settings, create_app
from mock_server.testing import ThreadedServer, serve_in_thread
from tests.browser import Page, chromium, chromium_path

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="chromium is not installed (apt-get install chromium)"
)

# The page a frontend developer would write: fetch with credentials, reading every answer.
PAGE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>app</title></head><body><script>
const VALID = {batch_spec_json: {name: "Invoices", agent: "agent_1", input: {datasource_id: "ds_1"}}};
async function call(url, {key, body, prefer} = {}) {
  const headers = {"Content-Type": "application/json"};
  if (key) headers["Meibel-API-Key"] = key;
  if (prefer) headers["Prefer"] = prefer;
  try {
    const r = await fetch(url, {method: "POST", credentials: "include", headers, body: JSON.stringify(body)});
    const text = await r.text();
    return {
      status: r.status, redirected: r.redirected, body: text ? JSON.parse(text) : null,
      retryAfter: r.headers.get("Retry-After"), injected: r.headers.get("x-mock-injected"),
    };
  } catch (e) {
    return {error: String(e)};
  }
}
window.runAll = async (base) => ({
  created: await call(base + "/batch-executions", {key: "meibel-mock-key", body: VALID}),
  unauthenticated: await call(base + "/batch-executions", {body: VALID}),
  invalid: await call(base + "/batch-executions", {key: "meibel-mock-key", body: {}}),
  fault: await call(base + "/batch-executions", {key: "meibel-mock-key", body: VALID, prefer: "fault=429"}),
  slash: await call(base + "/batch-executions/", {key: "meibel-mock-key", body: VALID}),
});
</script></body></html>
"""


async def page_app(scope: Any, receive: Any, send: Any) -> None:
    """A static server for the page: another origin than the mock's (another port)."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(PAGE)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": PAGE})


@pytest.fixture(scope="module")
def browser() -> Iterator[Page]:
    with chromium() as page:
        yield page


@pytest.fixture(scope="module")
def site() -> Iterator[ThreadedServer]:
    with serve_in_thread(page_app) as server:
        yield server


def run_page(browser: Page, site: ThreadedServer, mock: ThreadedServer, contract: Contract) -> Any:
    assert site.origin != mock.origin  # same host, another port: another origin
    browser.navigate(site.origin + "/")
    return browser.evaluate(f"runAll({(mock.origin + contract.base_path)!r})", timeout=60)


def test_a_page_on_another_origin_calls_the_mock_with_credentials(
    browser: Page, site: ThreadedServer, contract: Contract
) -> None:
    app = create_app(contract)
    with serve_in_thread(app) as mock:
        seen = run_page(browser, site, mock, contract)
        journal = app.state.journal.entries()
    assert seen["created"]["status"] == 201, seen
    assert seen["created"]["body"]["status"] == "pending"
    assert seen["unauthenticated"] == {
        "status": 401,
        "redirected": False,
        "body": {"detail": "Not authenticated"},
        "retryAfter": None,
        "injected": None,
    }
    assert seen["invalid"]["status"] == 422
    assert seen["invalid"]["body"]["detail"][0]["type"] == "missing"
    assert seen["fault"]["status"] == 429
    assert seen["fault"]["retryAfter"] == "1"  # exposed to the page's script
    assert seen["fault"]["injected"] == "fault"
    assert seen["slash"]["status"] == 201 and seen["slash"]["redirected"] is True  # 307 followed
    preflights = [e for e in journal if e.method == "OPTIONS"]
    assert preflights and all(e.status == 204 for e in preflights)
    assert {e.headers["origin"] for e in preflights} == {site.origin}


def test_an_origin_left_out_of_the_list_is_blocked_by_the_browser(
    browser: Page, site: ThreadedServer, contract: Contract
) -> None:
    # The control: the same page, a mock that allows another origin only. Chromium must refuse.
    app = create_app(contract, settings=Settings(cors_origins=("http://localhost:1",)))
    with serve_in_thread(app) as mock:
        seen = run_page(browser, site, mock, contract)
        journal = app.state.journal.entries()
    assert seen["created"] == {"error": "TypeError: Failed to fetch"}
    assert [e.status for e in journal if e.method == "OPTIONS"][:1] == [400]


def test_docs_renders_offline_and_tries_requests_on_the_mock(
    browser: Page, contract: Contract, tmp_path: Path
) -> None:
    with serve_in_thread(create_app(contract)) as mock:
        browser.events.clear()
        browser.navigate(mock.origin + "/docs")
        browser.wait_for("document.querySelector('.opblock-summary-path')", timeout=30)
        rendered = browser.evaluate(
            """({
              title: document.querySelector('.title')?.textContent,
              paths: [...document.querySelectorAll('.opblock-summary-path')].map(e => e.textContent),
              server: document.querySelector('.servers select')?.options[0]?.value,
            })"""
        )
        # "Try it out" then "Execute": Swagger UI calls the first server, which must be the mock.
        browser.evaluate("document.querySelector('.opblock-summary-control').click()")
        browser.wait_for("document.querySelector('.try-out__btn')")
        browser.evaluate("document.querySelector('.try-out__btn').click()")
        browser.wait_for("document.querySelector('.execute')")
        browser.evaluate("document.querySelector('.execute').click()")
        browser.wait_for(
            "document.querySelector('.live-responses-table tr.response .response-col_status')", timeout=30
        )
        status = browser.evaluate(
            "document.querySelector('.live-responses-table tr.response .response-col_status').textContent.trim()"
        )
        screenshot = Path(os.environ.get("MEIBEL_DOCS_SCREENSHOT", tmp_path / "docs.png"))
        browser.evaluate("window.scrollTo(0, 0)")
        browser.screenshot(screenshot)
    assert contract.title in rendered["title"]
    assert rendered["paths"] == ["/batch-executions"]  # under the server URL, which holds /v2
    assert rendered["server"] == mock.origin + contract.base_path
    assert status.split()[0] == "401"  # no key in the form: the mock answered ("401 Undocumented")
    requested = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
        and not e["params"]["request"]["url"].startswith("data:")  # inline images, not the network
    ]
    assert requested and all(url.startswith(mock.origin + "/") for url in requested), requested  # offline
    assert screenshot.stat().st_size > 10_000
