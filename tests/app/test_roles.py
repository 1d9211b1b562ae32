"""Sign-in and roles (issue 9, item 4): with `[auth]` configured, the roles file decides who
may write and who may see exact small counts; a viewer cannot reach a write by any route;
a broken roles file makes everyone a viewer, with its message.

AppTest signs users in with `at.user` and configures sign-in with `at.secrets` (what
access.sign_in_configured reads). Every test works on a private copy of the sample database
and a roles file of its own, named by CPC_ROLES."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import APP_TIMEOUT, DASHBOARD
from helpers import seen
from cpc_monitor.present.formatting import as_markdown_text
from cpc_monitor.app import data_safe, roles
from cpc_monitor.app.sidebar import SAFE_KEY
from cpc_monitor.errors import RolesFileError
from cpc_monitor.intake import dedupe, importer
from cpc_monitor.store import audit

pytestmark = pytest.mark.timeout(600)

DATA = "pages/data.py"
# What st.login needs in secrets.toml; AppTest never follows the sign-in itself.
AUTH = {"auth": {"redirect_uri": "http://127.0.0.1:8770/oauth2callback",
                 "cookie_secret": "a-test-cookie-secret-32-chars-long",
                 "client_id": "cpc-monitor", "client_secret": "not-a-secret",
                 "server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration"}}
ROLES_YAML = """\
users:
  Editor@Example.org: editor
  admin@example.org: admin
  viewer@example.org: viewer
"""
HEADER = ("victim_id,case_id,identified_date,identified_by,victim_status,parish,sex,age,nationality,"
          "exploitation_type,referred_date,care_provider\n")
# Two victims the duplicate review lists as a pair (different agencies, 4 days apart, ages 15 and 16).
GOOD = (HEADER + "ROLE-V-1,,2025-06-01,police,confirmed,St Ann,female,15,JAM,sexual,2025-06-02,cpfsa\n"
        + "ROLE-V-2,,2025-06-05,cpfsa,confirmed,St Ann,female,16,JAM,sexual,2025-06-06,cpfsa\n").encode()
PAIR = ("ROLE-V-1", "ROLE-V-2")


def signed_in(email: str | None) -> dict:
    """at.user for a signed-in e-mail, or for nobody signed in (None)."""
    return {"is_logged_in": False} if email is None else {"is_logged_in": True, "email": email, "name": "Tester"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def project(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the sample database (CPC_DB) and a roles file (CPC_ROLES) beside it."""
    path = tmp_path / "data" / "cpc.duckdb"
    path.parent.mkdir()
    shutil.copyfile(app_env, path)
    monkeypatch.setenv("CPC_DB", str(path))
    (tmp_path / "roles.yaml").write_text(ROLES_YAML, encoding="utf-8")
    monkeypatch.setenv("CPC_ROLES", str(tmp_path / "roles.yaml"))
    return path


def open_as(user: str | dict | None, page: str | None = DATA, secrets: dict | None = AUTH,
            state: dict | None = None) -> AppTest:
    """The dashboard with sign-in configured (`secrets`), as `user` (an e-mail, a whole at.user,
    or None: not signed in), on `page`."""
    at = AppTest.from_file(str(DASHBOARD), default_timeout=APP_TIMEOUT)
    at.secrets = dict(secrets or {})
    at.user = user if isinstance(user, dict) else signed_in(user)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def tab(at: AppTest, label: str):
    return next(t for t in at.tabs if t.label == label)


def _write_directly(db_path: str, data: bytes, kept: str, other: str) -> None:
    """An app that calls the Data page's write actions straight away, skipping every widget."""
    from pathlib import Path

    import streamlit as st

    from cpc_monitor.app import data_page

    st.session_state["upload"] = data_page.run_upload(db_path, "victims", "victims.csv", data, dry_run=False)
    st.session_state["decide"] = data_page.decide(Path(db_path), kept, other, "same_person")
    st.session_state["undo"] = data_page.undo(Path(db_path), kept, other)


def call_actions_as(user: dict, db_path: Path) -> AppTest:
    at = AppTest.from_function(_write_directly, args=(str(db_path), GOOD, *PAIR), default_timeout=APP_TIMEOUT)
    at.secrets = dict(AUTH)
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


# ----------------------------------------------------------------------------- viewers

VIEWERS = {  # at.user -> why the page says it may not write
    "listed as viewer": (signed_in("viewer@example.org"), "you are signed in as viewer@example.org, a viewer"),
    "unknown e-mail": (signed_in("stranger@example.org"),
                       "you are signed in as stranger@example.org, not listed in the roles file, so a viewer"),
    "not signed in": (signed_in(None), "you are not signed in"),
    "unverified e-mail": ({**signed_in("editor@example.org"), "email_verified": False},
                          "your provider has not verified the e-mail address editor@example.org"),
}


@pytest.mark.parametrize("user, why", VIEWERS.values(), ids=VIEWERS.keys())
def test_a_viewer_cannot_see_or_reach_upload_decisions_or_exact_numbers(project: Path, user: dict, why: str) -> None:
    importer.import_files(project, "victims", [_csv(project, GOOD)], who="tester")  # a pair waits for review
    assert PAIR in set(zip(dedupe.pending_pairs(project)["kept_victim_id"],
                           dedupe.pending_pairs(project)["other_victim_id"]))
    before, logged = sha256(project), len(audit.entries(project))

    at = open_as(user)
    upload = tab(at, "Upload")
    assert len(at.file_uploader) == 0
    assert seen(upload.warning[0].value).startswith(f"Uploads and duplicate decisions are switched off: {why}.")
    signed_out = not user["is_logged_in"]
    assert ("Sign in with the button in the sidebar." if signed_out else "Ask an administrator to list your "
            "e-mail") in seen(upload.warning[0].value)
    assert [b.label for b in at.sidebar.button] == (["Sign in"] if signed_out else ["Sign out"])
    safe = at.toggle(key=SAFE_KEY)
    assert safe.value is True and safe.disabled
    assert any(seen(c.value).startswith(f"Small counts stay hidden: {why}.") for c in at.sidebar.caption)
    duplicates = tab(at, "Duplicates")
    assert duplicates.info[0].value == data_safe.PAIRS_HIDDEN_LOCKED
    assert not duplicates.button and not duplicates.table

    # The switch cannot be clicked; a forged widget value (as a crafted WebSocket message would
    # send) changes nothing either: the page stays safe.
    at.session_state[SAFE_KEY] = False
    at.run()
    assert at.toggle(key=SAFE_KEY).value is True
    assert tab(at, "Duplicates").info[0].value == data_safe.PAIRS_HIDDEN_LOCKED and not tab(at, "Duplicates").table

    # Calling the actions directly is refused inside each action, and writes nothing.
    called = call_actions_as(user, project)
    assert called.session_state["upload"].report is None
    refused = f"Uploads and duplicate decisions are switched off: {why}."
    assert seen(called.session_state["upload"].message).startswith(refused)
    assert not called.session_state["decide"].ok and not called.session_state["undo"].ok
    assert called.session_state["decide"].text.startswith("Uploads and duplicate decisions are switched off")
    assert sha256(project) == before
    assert len(audit.entries(project)) == logged and dedupe.decisions(project).empty


def _csv(project: Path, data: bytes) -> Path:
    path = project.parent / "victims.csv"
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------- editors and admins


@pytest.mark.parametrize("email, role", [("editor@example.org", "editor"), ("ADMIN@example.org", "admin")])
def test_editors_and_admins_upload_decide_and_turn_off_suppression(project: Path, email: str, role: str) -> None:
    who = email.lower()
    at = open_as(email)
    assert f"Signed in as {who} · {'administrator' if role == 'admin' else role}" in [seen(c.value)
                                                                                     for c in at.sidebar.caption]
    assert not at.toggle(key=SAFE_KEY).disabled
    at.selectbox(key="upload_table").set_value("victims")
    at.file_uploader(key="upload_file_0").set_value(("victims.csv", GOOD, "text/csv"))
    at.run()
    at.button(key="upload_confirm").click().run()
    assert not at.exception
    assert tab(at, "Upload").success[0].value.startswith("**Imported.** imported 2 rows into victims")
    assert audit.entries(project)[["who", "action"]].values.tolist()[-1] == [who, "import"]

    at.toggle(key=SAFE_KEY).set_value(False).run()  # exact numbers: the pairs are drawn, with their buttons
    kept, other = PAIR
    at.button(key=f"same_{kept}_{other}").click().run()
    at.button(key=f"confirm_{kept}_{other}").click().run()
    assert tab(at, "Duplicates").success[0].value.startswith("Recorded. ROLE-V-2 is the same person as ROLE-V-1")
    assert dedupe.decisions(project)[["kept_victim_id", "decided_by"]].values.tolist() == [[kept, who]]
    assert audit.entries(project)["who"].tolist()[-1] == who


def test_an_e_mail_with_markdown_or_html_is_shown_as_text(project: Path) -> None:
    email = "<b>x</b>[y](javascript:alert(1))@example.org"
    escaped = as_markdown_text(email)  # every active character escaped: the reader sees the address as sent
    assert "\\<b\\>x" in escaped and "\\(javascript" in escaped
    at = open_as(email)
    assert f"Signed in as {escaped} · viewer" in [c.value for c in at.sidebar.caption]
    assert f"you are signed in as {escaped}, not listed" in tab(at, "Upload").warning[0].value


def test_the_roles_file_names_who_may_turn_off_suppression(project: Path, tmp_path: Path) -> None:
    (tmp_path / "roles.yaml").write_text(ROLES_YAML + "may_turn_off_suppression: [admin]\n", encoding="utf-8")
    editor = open_as("editor@example.org")
    assert len(editor.file_uploader) == 1  # still writes ...
    assert editor.toggle(key=SAFE_KEY).disabled and editor.toggle(key=SAFE_KEY).value is True  # ... but sees "<5"
    assert any(seen(c.value).startswith("Small counts stay hidden: you act as editor.") for c in editor.sidebar.caption)
    admin = open_as("admin@example.org", state={SAFE_KEY: False})
    assert not admin.toggle(key=SAFE_KEY).disabled and admin.toggle(key=SAFE_KEY).value is False


# ----------------------------------------------------------------------------- every page, as a viewer


def _shown(at: AppTest) -> list[tuple[str, str]]:
    """What the main area shows: every text, metric, table and chart, in order."""
    out = []
    for kind in ("markdown", "caption", "metric", "table", "dataframe", "info", "warning"):
        for element in getattr(at.main, kind):
            value = element.value
            out.append((kind, value.to_csv() if hasattr(value, "to_csv") else str(value)))
    out += [("chart", chart.proto.spec) for chart in at.main.get("plotly_chart")]
    return out


PAGES = ("pages/overview.py", "pages/prosecution.py", "pages/protection.py", "pages/prevention_partnership.py",
         "pages/dialogues.py", "pages/indicators.py")
SMALL_PARISH = {"filter_parish": ["Hanover"]}  # one small parish: every page that filters then has small counts


@pytest.mark.parametrize("page", PAGES)
def test_a_viewer_sees_every_page_exactly_as_presentation_safe_mode_shows_it(project: Path, page: str) -> None:
    viewer = _shown(open_as("viewer@example.org", page, state={**SMALL_PARISH, SAFE_KEY: False}))
    safe = _shown(open_as("admin@example.org", page, state={**SMALL_PARISH, SAFE_KEY: True}))
    exact = _shown(open_as("admin@example.org", page, state={**SMALL_PARISH, SAFE_KEY: False}))
    assert viewer == safe
    assert safe != exact, "the page shows no small count at all: this comparison would prove nothing"


# ----------------------------------------------------------------------------- a broken roles file

BROKEN = "users:\n  admin@example.org: admn\n  editor@example.org: editor\n"


@pytest.mark.parametrize("secrets", [AUTH, {}], ids=["sign-in", "local mode"])
def test_a_broken_roles_file_makes_everyone_a_viewer_with_the_message(project: Path, tmp_path: Path,
                                                                      secrets: dict) -> None:
    (tmp_path / "roles.yaml").write_text(BROKEN, encoding="utf-8")
    before = sha256(project)
    at = open_as("admin@example.org", secrets=secrets)
    problem = "line 2: 'admn' is not a role; use viewer, editor or admin. Did you mean 'admin'?"
    assert at.sidebar.error[0].value.startswith("The roles file cannot be used, so everyone is a viewer until it "
                                                "is fixed:")
    assert problem in seen(at.sidebar.error[0].value)
    notice = seen(tab(at, "Upload").warning[0].value)
    assert notice.startswith("Uploads and duplicate decisions are switched off: the roles file "
                             f"{tmp_path / 'roles.yaml'} cannot be used, so everyone is a viewer until it is fixed")
    assert problem in notice
    assert len(at.file_uploader) == 0
    assert at.toggle(key=SAFE_KEY).disabled and at.toggle(key=SAFE_KEY).value is True
    assert sha256(project) == before

    (tmp_path / "roles.yaml").write_text(ROLES_YAML, encoding="utf-8")  # fixed: read again at once
    at.run()
    assert not at.sidebar.error and len(at.file_uploader) == 1


def test_local_mode_ignores_sign_in_and_the_local_process_acts_as_admin(project: Path) -> None:
    at = open_as(None, secrets={})
    assert len(at.file_uploader) == 1 and not at.toggle(key=SAFE_KEY).disabled
    assert not at.sidebar.button  # no Sign in button without [auth]
    assert any(seen(c.value).startswith("Local mode (no sign-in set up): this browser may change data")
               for c in at.sidebar.caption)


# ----------------------------------------------------------------------------- the roles file itself


@pytest.mark.parametrize("text, message", [
    ("users:\n  a@example.org: editr\n", "roles.yaml, line 2: 'editr' is not a role; use viewer, editor or admin. "
                                        "Did you mean 'editor'?"),
    ("user:\n  a@example.org: editor\n", "roles.yaml, line 1: unknown key 'user'. Did you mean 'users'?"),
    ("users:\n  bob: editor\n", "roles.yaml, line 2: 'bob' is not an e-mail address; write the address the person "
                                "signs in with, e.g. `someone@example.org: editor`."),
    ("users:\n  a@example.org: admin\n  A@Example.org: viewer\n",
     "roles.yaml, line 3: 'A@Example.org' is listed twice (addresses are compared without regard to capitals); keep "
     "one line for it."),
    ("users: [a@example.org]\n", "roles.yaml, line 1: `users` must hold one `e-mail: role` line per person, indented "
                                 "under it."),
    ("may_turn_off_suppression: [admn]\n", "roles.yaml, line 1: 'admn' is not a role; use viewer, editor or admin. "
                                           "Did you mean 'admin'?"),
    ("- a@example.org\n", "roles.yaml, line 1: the roles file must be a mapping with the key `users:` (e-mail: role "
                          "lines under it); see roles.example.yaml."),
    ("users:\n  a@example.org: &r admin\n  b@example.org: *r\n",
     "roles.yaml, line 3: this uses an alias (*r) of an anchor (&r); write the value out instead."),
    ("users:\n\ta@example.org: admin\n", "roles.yaml, line 2: this line is indented with a tab; YAML needs spaces. "
                                         "Replace the tab with spaces (two per level)."),
], ids=["unknown role", "unknown key", "not an e-mail", "listed twice", "users not a mapping", "unknown role in list",
        "not a mapping", "alias", "tab"])
def test_a_bad_roles_file_is_refused_with_line_and_fix(text: str, message: str) -> None:
    with pytest.raises(RolesFileError) as raised:
        roles.parse_roles(text)
    assert str(raised.value) == message


def test_roles_are_read_without_regard_to_capitals_and_an_unlisted_e_mail_is_a_viewer() -> None:
    policy = roles.parse_roles(ROLES_YAML)
    assert policy.role_of(" EDITOR@example.ORG ") == "editor" and policy.role_of("admin@example.org") == "admin"
    assert policy.role_of("stranger@example.org") == "viewer" and policy.role_of("") == "viewer"
    assert policy.unsuppressed == ("editor", "admin")  # the default
    assert roles.parse_roles("") == roles.Roles() and roles.load_roles("/no/such/roles.yaml") == roles.Roles()


def test_the_example_roles_file_is_valid_and_names_no_real_address() -> None:
    example = Path(DASHBOARD).parent / "roles.example.yaml"
    policy = roles.load_roles(example)
    assert set(policy.users.values()) == {"viewer", "editor", "admin"}
    assert all(email.endswith("@example.org") for email in policy.users)


def _provider() -> None:
    import streamlit as st

    from cpc_monitor.app import access

    st.session_state["provider"] = access.sign_in_provider()


@pytest.mark.parametrize("section, provider", [
    (AUTH["auth"], None),  # one provider, configured directly under [auth]: st.login()
    ({k: v for k, v in AUTH["auth"].items() if k in ("redirect_uri", "cookie_secret")}
     | {"microsoft": {k: v for k, v in AUTH["auth"].items() if k not in ("redirect_uri", "cookie_secret")}},
     "microsoft"),  # a named one ([auth.microsoft]): st.login("microsoft")
], ids=["[auth]", "[auth.microsoft]"])
def test_sign_in_uses_the_provider_secrets_toml_configures(section: dict, provider: str | None) -> None:
    at = AppTest.from_function(_provider, default_timeout=APP_TIMEOUT)
    at.secrets = {"auth": section}
    at.run()
    assert not at.exception and at.session_state["provider"] == provider


def test_a_sign_in_that_cannot_start_is_a_message_not_a_traceback(project: Path) -> None:
    # AppTest's secrets reach the dashboard but not st.login's own check, which then finds no
    # usable [auth] section: just what an incomplete secrets.toml gives.
    at = open_as(None, page=None)
    at.sidebar.button(key="sign_in").click().run()
    assert not at.exception
    message = at.sidebar.error[0].value
    assert message.startswith("Sign-in is not set up correctly: ")
    assert message.endswith("Check the [auth] section of .streamlit/secrets.toml (docs/deployment.md lists its keys).")
