"""The Data page in a real browser: Debian's chromium driven by Playwright against a
`streamlit run` server on loopback over a private copy of the sample database. A bad CSV
and a good CSV go through the real file input; the good one is confirmed and imported,
then a duplicate pair it creates is decided.

Screenshots go to test-artifacts/ (git-ignored). When CI=true this test must run: a
missing browser is then a failure, not a skip."""
from __future__ import annotations

import hashlib
import http.client
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import ARTIFACTS, ERROR, PROJECTOR, WAIT_MS, chromium, serving, skip_without_chromium
from cpc_monitor.store import audit, db
from cpc_monitor.definitions.indicators import load_indicators
from cpc_monitor.intake import dedupe, importer

MIN_CELL = load_indicators(Path(__file__).resolve().parents[2] / "indicators.yaml").defaults.min_cell
TALL = {"width": 1280, "height": 2000}  # Streamlit scrolls inside the page: full_page screenshots miss content
NAV = '[data-testid="stSidebarNav"]'
UPLOADER = '[data-testid="stFileUploader"] input[type=file]'
HEADER = ("victim_id,case_id,identified_date,identified_by,victim_status,parish,sex,age,nationality,"
          "exploitation_type,referred_date,care_provider\n")
BAD = HEADER + ("WEB-V-9,,2025-13-01,police,confirmed,Kingstn,female,15,JAM,sexual,,\n"
                "WEB-V-10,NOPE-1,2025-06-05,cpfsa,confirmed,St Ann,femal,=1+1,JAM,sexual,,\n")
# WEB-V-1 and WEB-V-2 make a likely duplicate pair (two agencies, 4 days apart, ages 15 and 16).
GOOD = HEADER + ("WEB-V-1,,2025-06-01,police,confirmed,St Ann,female,15,JAM,sexual,2025-06-02,cpfsa\n"
                 "WEB-V-2,,2025-06-05,cpfsa,confirmed,St Ann,female,16,JAM,sexual,2025-06-06,cpfsa\n"
                 "WEB-V-3,,2025-07-01,ngo,suspected,Kingston,male,12,JAM,labour,,\n")

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

skip_without_chromium()
from playwright.sync_api import Browser, Page, expect  # noqa: E402  (needs the browser)

expect.set_options(timeout=WAIT_MS)  # an expectation may wait out a rerun that re-evaluates every indicator


@pytest.fixture
def copy_db(sample_db: Path, tmp_path: Path) -> Path:
    """A private copy of the sample: the test imports into it."""
    path = tmp_path / "db" / "cpc.duckdb"
    path.parent.mkdir()
    shutil.copyfile(sample_db, path)
    return path


@pytest.fixture
def server(copy_db: Path, tmp_path: Path) -> Iterator[str]:
    """The dashboard on 127.0.0.1 over the copy: uploads are on."""
    with serving(copy_db, tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless chromium."""
    with chromium() as launched:
        yield launched


def open_data_page(browser: Browser, url: str, **page_options: object) -> Page:
    """A 1280x720 page on the Data page, reached through the sidebar as a user would."""
    page = browser.new_page(viewport=PROJECTOR, **page_options)
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    # The navigation is drawn by st.navigation once the entry script has run (before that
    # Streamlit shows its own list of pages/ files, whose links skip dashboard.py).
    nav = page.locator(NAV)
    nav.get_by_role("link", name="Indicator explorer").wait_for()
    nav.get_by_role("link", name="Data", exact=True).click()
    expect(page.get_by_role("tab", name="Upload")).to_be_visible()
    return page


def shot(page: Page, name: str, size: dict[str, int]) -> None:
    """A screenshot of the viewport at `size` into test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(size)
    page.wait_for_timeout(700)  # let the layout settle at the new width
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def victims(path: Path) -> int:
    with db.reading(path) as con:
        return con.execute("SELECT count(*) FROM victims").fetchone()[0]


def test_upload_bad_then_good_csv_and_decide_a_duplicate(browser: Browser, server: str, copy_db: Path,
                                                          tmp_path: Path) -> None:
    bad, good = tmp_path / "victims-bad.csv", tmp_path / "victims-good.csv"
    bad.write_text(BAD, encoding="utf-8")
    good.write_text(GOOD, encoding="utf-8")
    before = victims(copy_db)
    page = open_data_page(browser, server)
    page.locator(UPLOADER).wait_for(state="attached")
    shot(page, "data-upload-1280x720", PROJECTOR)

    page.locator('[data-testid="stSelectbox"]').filter(has_text="Table to load").click()
    page.get_by_role("option", name="victims", exact=True).click()
    expect(page.get_by_role("combobox", name="Table to load")).to_have_value("victims")

    page.locator(UPLOADER).set_input_files(str(bad))
    refused = page.get_by_text("Refused.", exact=True)
    refused.wait_for()
    expect(page.locator('[data-testid="stAlert"]').filter(has=refused)).to_contain_text(
        "victims: 5 problems in victims-bad.csv (2 rows read); nothing was written")
    problems = page.get_by_role("tabpanel", name="Upload").locator('[data-testid="stTable"]')
    for text in ("'Kingstn' is not a parish. Did you mean 'Kingston'?", "'femal' is not an allowed sex",
                 "'=1+1' is not a whole number", "there is no case_id 'NOPE-1'"):
        expect(problems).to_contain_text(text)
    expect(page.get_by_role("button", name="Download the problems (CSV)")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm: import")).to_have_count(0)
    shot(page, "data-upload-refused-1280x720", PROJECTOR)
    shot(page, "data-upload-refused-tall", TALL)
    assert victims(copy_db) == before

    page.locator(UPLOADER).set_input_files(str(good))
    page.get_by_text("Checked: no errors.", exact=True).wait_for()
    expect(page.locator('[data-testid="stAlert"]').first).to_contain_text(
        f"would add 3 rows to victims ({before:,} now, {before + 3:,} rows after); nothing was written.")
    shot(page, "data-upload-checked-tall", TALL)
    page.get_by_role("button", name="Confirm: import 3 rows into victims").click()
    page.get_by_text("Imported.", exact=True).wait_for()
    expect(page.get_by_role("button", name="Confirm: import 3 rows into victims")).to_have_count(0)
    batch = audit.entries(copy_db)["batch"].iloc[-1]
    expect(page.locator('[data-testid="stAlert"]').first).to_contain_text(
        f"imported 3 rows into victims from victims-good.csv (3 rows read) as batch {batch}; "
        f"victims now has {before + 3:,} rows.")
    assert victims(copy_db) == before + 3
    shot(page, "data-upload-imported-tall", TALL)

    page.get_by_role("tab", name="Audit log").click()
    log = page.locator('[data-testid="stDataFrame"]').filter(has_text="victims-good.csv")
    expect(log).to_be_visible()
    expect(page.get_by_text("1 entry, newest first")).to_be_visible()
    shot(page, "data-audit-1280x720", PROJECTOR)

    page.get_by_role("tab", name="Quality").click()
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for()
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_contain_text("Victims: ")
    shot(page, "data-quality-1280x720", PROJECTOR)
    shot(page, "data-quality-tall", TALL)

    page.get_by_role("tab", name="Duplicates").click()
    card = page.locator(".st-key-pair_WEB-V-1_WEB-V-2")
    card.get_by_role("button", name="Same person").click()
    confirm = ("Confirm: WEB-V-2 is the same person as WEB-V-1: WEB-V-1 is kept and WEB-V-2 no longer "
               "counts in any indicator.")
    expect(card).to_contain_text(confirm)
    shot(page, "data-duplicates-confirm-1280x720", PROJECTOR)
    card.get_by_role("button", name="Confirm").click()
    page.get_by_text("Recorded. WEB-V-2 is the same person as WEB-V-1", exact=False).wait_for()
    expect(page.locator(".st-key-pair_WEB-V-1_WEB-V-2")).to_have_count(0)
    decided = dedupe.decisions(copy_db)
    assert decided[["kept_victim_id", "other_victim_id", "decision", "decided_by"]].values.tolist() == [
        ["WEB-V-1", "WEB-V-2", "same_person", "local (127.0.0.1)"]]
    expect(page.get_by_role("button", name="Undo")).to_have_count(1)
    shot(page, "data-duplicates-decided-tall", TALL)
    assert page.locator(ERROR).count() == 0


def expect_a_viewer(page: Page) -> None:
    """A request that may not write is a viewer: presentation-safe numbers are locked on, so no
    duplicate pair (children's records) and no decision button is drawn."""
    safe = page.locator('[data-testid="stSidebar"]').get_by_role("switch", name="Presentation-safe numbers")
    expect(safe).to_be_checked()
    expect(safe).to_be_disabled()
    page.get_by_role("tab", name="Duplicates").click()
    expect(page.get_by_text("Duplicate pairs are not shown while presentation-safe numbers are on.")).to_be_visible()
    expect(page.get_by_text("reviewing pairs needs someone signed in as an editor or admin",
                            exact=False)).to_be_visible()
    expect(page.get_by_role("button", name="Same person")).to_have_count(0)


def test_uploads_are_off_when_the_server_is_not_on_loopback(browser: Browser, copy_db: Path, tmp_path: Path) -> None:
    # 127.0.0.2 is outside the page's list (127.0.0.1, localhost, ::1), yet still reachable only
    # from this computer: the test opens nothing to the network.
    before = hashlib.sha256(copy_db.read_bytes()).hexdigest()
    # The project's allowedHosts names only loopback's usual names, so this server admits 127.0.0.2 too.
    with serving(copy_db, tmp_path / "streamlit.log", "127.0.0.2", "--server.allowedHosts", "127.0.0.2") as url:
        page = open_data_page(browser, url)
        notice = page.get_by_role("tabpanel", name="Upload").locator('[data-testid="stAlert"]')
        expect(notice).to_contain_text("Uploads and duplicate decisions are switched off: this server listens on "
                                       "127.0.0.2")
        expect(notice).to_contain_text("--server.address 127.0.0.1")
        expect(page.locator(UPLOADER)).to_have_count(0)
        shot(page, "data-upload-off-1280x720", PROJECTOR)
        expect_a_viewer(page)
        assert page.locator(ERROR).count() == 0
    assert hashlib.sha256(copy_db.read_bytes()).hexdigest() == before


def test_a_request_through_a_local_proxy_is_read_only(browser: Browser, server: str, copy_db: Path) -> None:
    # What nginx on this machine adds when it forwards an outside visitor: the client address
    # still looks local, the forwarding header says it is not.
    before = hashlib.sha256(copy_db.read_bytes()).hexdigest()
    page = open_data_page(browser, server, extra_http_headers={"X-Forwarded-For": "203.0.113.9"})
    notice = page.get_by_role("tabpanel", name="Upload").locator('[data-testid="stAlert"]')
    expect(notice).to_contain_text("Uploads and duplicate decisions are switched off: the request came through a "
                                   "proxy (it carries the header x-forwarded-for).")
    expect(page.locator(UPLOADER)).to_have_count(0)
    expect_a_viewer(page)
    assert page.locator(ERROR).count() == 0
    assert hashlib.sha256(copy_db.read_bytes()).hexdigest() == before


def _handshake(url: str, host: str, origin: str) -> int:
    """The status of a WebSocket handshake to the app's stream with the given Host and Origin."""
    address = url.removeprefix("http://")
    connection = http.client.HTTPConnection(address, timeout=30)
    connection.request("GET", "/_stcore/stream", headers={
        "Host": host, "Origin": origin, "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "streamlit"})
    status = connection.getresponse().status
    connection.close()
    return status


def test_a_rebinding_page_or_a_forged_origin_cannot_open_the_app(server: str, copy_db: Path) -> None:
    port = server.rsplit(":", 1)[1]
    assert _handshake(server, f"127.0.0.1:{port}", server) == 101  # the dashboard's own page
    assert _handshake(server, f"attacker-rebind.example:{port}", f"http://attacker-rebind.example:{port}") == 403
    assert _handshake(server, f"127.0.0.1:{port}", f"http://evil.example:{port}") == 403
    # A real browser on a rebinding page: the name resolves to 127.0.0.1, the app never opens.
    before = hashlib.sha256(copy_db.read_bytes()).hexdigest()
    with chromium("--host-resolver-rules=MAP attacker-rebind.example 127.0.0.1") as rebound:
        page = rebound.new_page(viewport=PROJECTOR)
        page.goto(f"http://attacker-rebind.example:{port}")
        page.wait_for_timeout(8000)
        expect(page.locator(NAV)).to_have_count(0, timeout=1000)
        expect(page.locator(UPLOADER)).to_have_count(0, timeout=1000)
    assert hashlib.sha256(copy_db.read_bytes()).hexdigest() == before


def test_safe_mode_on_the_data_page_at_1280x720(browser: Browser, copy_db: Path, tmp_path: Path) -> None:
    good = tmp_path / "victims-good.csv"
    good.write_text(GOOD, encoding="utf-8")
    importer.import_files(copy_db, "victims", [good], who="tester")  # an audit row with 3 rows, a duplicate pair
    with serving(copy_db, tmp_path / "streamlit.log") as url:
        page = open_data_page(browser, url)
        page.locator('[data-testid="stSidebar"]').get_by_text("Presentation-safe numbers").click()
        page.get_by_role("tab", name="Duplicates").click()
        notice = page.get_by_role("tabpanel", name="Duplicates").locator('[data-testid="stAlert"]')
        expect(notice).to_contain_text("Duplicate pairs are not shown while presentation-safe numbers are on.")
        expect(notice).to_contain_text("turn off Presentation-safe numbers in the sidebar on a trusted screen")
        expect(page.locator(".st-key-pair_WEB-V-1_WEB-V-2")).to_have_count(0)
        expect(page.get_by_role("button", name="Same person")).to_have_count(0)
        shot(page, "data-safe-duplicates-1280x720", PROJECTOR)

        page.get_by_role("tab", name="Quality").click()
        chart = page.locator('[data-testid="stPlotlyChart"]').first
        chart.locator(".main-svg").first.wait_for()
        expect(chart).to_contain_text("months with too few records to show")
        expect(chart).to_contain_text(f"Fewer than {MIN_CELL} records (hidden)")
        shot(page, "data-safe-quality-1280x720", PROJECTOR)
        shot(page, "data-safe-quality-tall", TALL)
        batch = audit.entries(copy_db)["batch"].iloc[-1]
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Rows").click()
        page.get_by_role("option", name=f"Import batch: {batch}").click()
        withheld = page.get_by_role("tabpanel", name="Quality").locator('[data-testid="stAlert"]')
        expect(withheld).to_contain_text(f"Import batch: {batch}: its figures are not shown while presentation-safe "
                                         "numbers are on.")
        expect(page.locator('[data-testid="stMetric"]').first).to_contain_text(f"<{MIN_CELL}")
        shot(page, "data-safe-quality-batch-1280x720", PROJECTOR)
        shot(page, "data-safe-quality-batch-tall", TALL)

        page.get_by_role("tab", name="Audit log").click()
        expect(page.get_by_text(f"Counts below {MIN_CELL} read \"<{MIN_CELL}\"", exact=False)).to_be_visible()
        shot(page, "data-safe-audit-1280x720", PROJECTOR)
        assert page.locator(ERROR).count() == 0
