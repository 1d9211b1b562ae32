"""One real sign-in (issue 9, item 4): Chromium signs in through st.login against a local
OpenID Connect provider (oidc-provider-mock, started by the test on 127.0.0.1), and the roles
file decides what the page shows. The same person signs in first with an editor's e-mail,
then (the provider's claims changed) with a viewer's.

Everything listens on loopback, on this test's own ports. When CI=true this test must run:
a missing browser is then a failure, not a skip."""
from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import ERROR, WAIT_MS, chromium, skip_without_chromium
from cpc_monitor.serving import streamlit_server
from cpc_monitor.store import audit

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

skip_without_chromium()
from oidc_provider_mock import User, run_server_in_thread  # noqa: E402  (a test-only dependency)
from playwright.sync_api import Page, expect  # noqa: E402  (needs the browser)

expect.set_options(timeout=WAIT_MS)

APP_PORT, PROVIDER_PORT = 8771, 9401
PROVIDER = f"http://127.0.0.1:{PROVIDER_PORT}"
SUBJECT = "pm-1"  # the provider's user; its e-mail claim is what the roles file reads
SECRETS = f"""\
[auth]
redirect_uri = "http://127.0.0.1:{APP_PORT}/oauth2callback"
cookie_secret = "a-long-random-cookie-secret-for-this-test-only"
client_id = "cpc-monitor"
client_secret = "any-secret-the-mock-accepts"
server_metadata_url = "{PROVIDER}/.well-known/openid-configuration"
"""
ROLES = "users:\n  editor@example.org: editor\n  viewer@example.org: viewer\n"
SIDEBAR = '[data-testid="stSidebar"]'
UPLOADER = '[data-testid="stFileUploader"] input[type=file]'


@pytest.fixture
def signed_in_app(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The provider on loopback, and the dashboard configured to sign in with it over a copy of the sample."""
    db = tmp_path / "data" / "cpc.duckdb"
    db.parent.mkdir()
    shutil.copyfile(sample_db, db)
    (tmp_path / "secrets.toml").write_text(SECRETS, encoding="utf-8")
    (tmp_path / "roles.yaml").write_text(ROLES, encoding="utf-8")
    monkeypatch.setenv("CPC_ROLES", str(tmp_path / "roles.yaml"))
    with run_server_in_thread(PROVIDER_PORT, user_claims=[User(sub=SUBJECT, claims={"email": "editor@example.org"})]), \
            streamlit_server(db, tmp_path / "streamlit.log", port=APP_PORT,
                             options=("--secrets.files", str(tmp_path / "secrets.toml"))) as (url, _):
        yield url


def set_email(email: str) -> None:
    """Change what the provider says about the user (its e-mail claim)."""
    request = urllib.request.Request(f"{PROVIDER}/users/{SUBJECT}", method="PUT",
                                     data=json.dumps({"email": email}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


def sign_in(page: Page) -> None:
    """The sidebar's Sign in button, then the provider's page, and back to the dashboard."""
    page.locator(SIDEBAR).get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{PROVIDER}/oauth2/authorize**")
    page.get_by_role("button", name=SUBJECT, exact=True).click()
    page.locator(SIDEBAR).get_by_text(re.compile(r"^Signed in as ")).wait_for()


def safe_switch(page: Page):
    return page.locator(SIDEBAR).get_by_role("switch", name="Presentation-safe numbers")


def open_data_page(page: Page) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Data", exact=True).click()
    expect(page.get_by_role("tab", name="Upload")).to_be_visible()


def test_sign_in_for_real_and_the_roles_file_decides_what_the_page_shows(signed_in_app: str, tmp_path: Path) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(WAIT_MS)
        page.goto(signed_in_app)
        expect(page.locator(SIDEBAR)).to_contain_text("Not signed in: you see the dashboard as a viewer")
        expect(safe_switch(page)).to_be_disabled()

        sign_in(page)  # as the editor
        expect(page.locator(SIDEBAR)).to_contain_text("Signed in as editor@example.org · editor")
        expect(safe_switch(page)).to_be_enabled()
        expect(safe_switch(page)).not_to_be_checked()
        page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for()
        assert page.get_by_text("<5", exact=True).count() == 0  # exact numbers on the overview
        open_data_page(page)
        page.locator(UPLOADER).wait_for(state="attached")

        set_email("viewer@example.org")  # the provider now vouches for a viewer's address
        page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="End session").click()  # the provider's own sign-out page
        expect(page.locator(SIDEBAR)).to_contain_text("Not signed in")
        sign_in(page)
        expect(page.locator(SIDEBAR)).to_contain_text("Signed in as viewer@example.org · viewer")
        expect(safe_switch(page)).to_be_checked()
        expect(safe_switch(page)).to_be_disabled()
        expect(page.locator(SIDEBAR)).to_contain_text("Small counts stay hidden: you are signed in as "
                                                      "viewer@example.org, a viewer.")
        page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for()
        expect(page.get_by_text("<5", exact=True).first).to_be_visible()  # the overview's small counts are hidden
        open_data_page(page)
        expect(page.get_by_role("tabpanel", name="Upload")).to_contain_text(
            "Uploads and duplicate decisions are switched off: you are signed in as viewer@example.org, a viewer.")
        expect(page.locator(UPLOADER)).to_have_count(0)
        assert page.locator(ERROR).count() == 0
    assert audit.entries(tmp_path / "data" / "cpc.duckdb").empty
