"""Who may do what from the dashboard: the one decision every write action calls
(`current()`), on every run and again inside the action itself.

Two modes. With an `[auth]` section in `.streamlit/secrets.toml`, people sign in through
their OpenID Connect provider (`st.login`) and the roles file (cpc_monitor/app/roles.py)
gives each e-mail a role: viewer, editor or admin; anyone not signed in, or not listed, is a
viewer. Without it, the dashboard runs in local mode: only a browser on this very machine
may write, and it acts as admin. Where the server listens is not enough for that: behind a
reverse proxy on this machine every outside visitor arrives from loopback, and a
DNS-rebinding page reaches a loopback server under a foreign host name. So a local-mode
request may write only when the server listens on loopback, its Host is a loopback name or
address, the client address Streamlit sees is loopback, it carries no forwarding header,
and any Origin it names is loopback too. Everyone else is a viewer.

Editors and admins may write (`allowed`). Only the roles the roles file names (by default
editor and admin) may turn off small-count suppression (`exact_numbers`); the sidebar forces
presentation-safe numbers on for everyone else. A roles file that cannot be used makes
everyone a viewer, with the message saying which line to fix (fail closed)."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from collections.abc import Mapping

import streamlit as st

from cpc_monitor.app import roles, settings
from cpc_monitor.errors import RolesFileError
from cpc_monitor.present.formatting import as_markdown_text

# Host names that always mean this machine (addresses are checked as addresses).
LOOPBACK_NAMES = ("localhost",)
# The listening addresses of local mode's writes (server.address; "[::1]" is read as "::1").
LOOPBACK_ADDRESSES = ("127.0.0.1", "localhost", "::1")
# Headers a reverse proxy adds: their presence means the request came from elsewhere.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip", "x-forwarded-proto",
                      "via")
LOCAL_USER = "local"  # the user of local mode, in the audit log with the client's address


@dataclass(frozen=True)
class Access:
    """What this request may do: its role, who it is, and why it may not write when it may not."""

    allowed: bool  # may write data or indicators: an editor or an admin
    client: str  # the client address Streamlit sees ("local" for a run with no request behind it)
    reason: str = ""  # why it may not write (empty when it may)
    role: str = "viewer"
    user: str = LOCAL_USER  # the signed-in e-mail, or "local"; "" when sign-in is on and nobody signed in
    exact_numbers: bool = False  # may turn off small-count suppression
    signed_in_mode: bool = False  # sign-in is configured ([auth] in secrets.toml)
    roles_problem: str = ""  # the roles file's problems, when it cannot be used

    @property
    def who(self) -> str:
        """The audit log's "who": the e-mail, or "local" with the client's address."""
        if self.signed_in_mode:
            return self.user or "not signed in"
        return LOCAL_USER if self.client in (LOCAL_USER, "unknown") else f"{LOCAL_USER} ({self.client})"


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 (and ::ffff:127.x) and the name localhost."""
    text = str(address or "").strip().strip("[]").lower()
    if text in LOOPBACK_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def host_name(host: str | None) -> str:
    """The name part of a Host header: 'localhost:8501' -> 'localhost', '[::1]:8501' -> '::1'."""
    text = str(host or "").strip()
    if text.startswith("["):
        return text[1:text.find("]")] if "]" in text else text[1:]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def judge(headers: Mapping[str, str], client: str | None) -> Access:
    """The local-mode decision for one request's headers and client address."""
    lower = {str(k).lower(): v for k, v in headers.items()}
    who = str(client or "unknown")
    forwarded = [h for h in FORWARDING_HEADERS if h in lower]
    if forwarded:
        return Access(False, who, f"the request came through a proxy (it carries the header {forwarded[0]})")
    if not is_loopback(client):
        return Access(False, who, f"the request comes from {who}, not from this computer")
    host = host_name(lower.get("host"))
    if not is_loopback(host):
        return Access(False, who, f"the page was opened as '{host or 'no host'}', not as localhost or 127.0.0.1")
    origin = str(lower.get("origin") or "")
    if origin and not is_loopback(host_name(origin.split("://", 1)[-1].split("/", 1)[0])):
        return Access(False, who, f"the request was sent by a page from {origin}, not by this dashboard")
    return Access(True, who, role="admin")


def current() -> Access:
    """The decision for the request running this script: what every write action checks."""
    try:
        policy, problem = roles.load_roles(settings.roles_path()), ""
    except RolesFileError as exc:
        policy, problem = roles.Roles(), str(exc)
    decision = _signed_in(policy) if sign_in_configured() else _local()
    if problem:  # fail closed: nobody may write or see exact numbers until the file is fixed
        return replace(decision, allowed=False, role="viewer", exact_numbers=False, roles_problem=problem,
                       reason=f"the roles file {settings.roles_path()} cannot be used, so everyone is a viewer "
                              f"until it is fixed ({problem.splitlines()[0]})")
    return replace(decision, exact_numbers=policy.may_turn_off_suppression(decision.role))


def sign_in_configured() -> bool:
    """True when secrets.toml has an `[auth]` section: people then sign in with st.login."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except Exception:  # an unreadable secrets file is no sign-in; Streamlit logs why at start
        return False


def _client() -> tuple[dict[str, str], object]:
    """The request's headers and the client address Streamlit reports (not always a string)."""
    try:
        return dict(st.context.headers), st.context.ip_address
    except Exception:  # no request behind this run (a bare script)
        return {}, "unknown"


def _signed_in(policy: roles.Roles) -> Access:
    """Sign-in mode: the role of the signed-in e-mail; anyone else is a viewer."""
    _, client = _client()
    client = client if isinstance(client, str) else "local"
    try:
        user = st.user.to_dict()
    except Exception:  # no script run: nobody is signed in
        user = {}
    email = roles.normalise_email(user.get("email"))
    base = Access(False, client, role="viewer", user=email, signed_in_mode=True)
    if not user.get("is_logged_in"):
        return replace(base, user="", reason="you are not signed in")
    if not email:
        return replace(base, reason="your sign-in did not give an e-mail address, so the roles file cannot name you")
    shown = as_markdown_text(email)  # the reason is shown as Markdown: the provider's text stays text
    if user.get("email_verified") is False:
        return replace(base, reason=f"your provider has not verified the e-mail address {shown}")
    role = policy.role_of(email)
    if role not in roles.WRITERS:
        listed = "a viewer" if email in policy.users else "not listed in the roles file, so a viewer"
        return replace(base, reason=f"you are signed in as {shown}, {listed}")
    return replace(base, allowed=True, role=role)


def _local() -> Access:
    """Local mode: the local browser acts as admin; every other request is a viewer."""
    address = str(st.get_option("server.address") or "").strip("[]")
    headers, client = _client()
    if address not in LOOPBACK_ADDRESSES:
        return Access(False, client if isinstance(client, str) else "unknown",
                      f"this server listens on {address or 'every network address'}, not only on this computer's "
                      f"loopback address ({', '.join(LOOPBACK_ADDRESSES)})")
    # AppTest runs have no real request: no headers and no client address (a placeholder that
    # is no string). The page is then the local user's own process, as a script on this machine is.
    if not headers and not isinstance(client, str):
        return Access(True, LOCAL_USER, role="admin")
    # Streamlit reports a client on 127.0.0.1 or ::1 as None (documented); with headers present
    # the request is real, so None here means a loopback client.
    if client is None and headers:
        client = "127.0.0.1"
    return judge(headers, client)


def sign_in_provider() -> str | None:
    """The provider st.login should use: None for the one configured directly under [auth],
    else the first named one ([auth.NAME])."""
    section = st.secrets.get("auth", {}) if sign_in_configured() else {}
    if "server_metadata_url" in section:
        return None
    return next((name for name, value in section.items() if isinstance(value, Mapping)), None)


def read_only_notice(access: Access, action: str = "Uploads and duplicate decisions",
                     by_hand: str = "`python -m cpc_monitor import --db PATH TABLE FILE --dry-run`") -> str:
    """Why this page does not write (`action`: what is switched off), and how to make it;
    `by_hand`: the command line's way to do the same on the server."""
    first = f"{action} {'is' if action.startswith('Changing') else 'are'} switched off: {access.reason}."
    if access.roles_problem:
        return (f"{first} An administrator fixes {settings.roles_path()} (each problem names its line); "
                "the dashboard reads it again at once.")
    if access.signed_in_mode:
        how = ("Sign in with the button in the sidebar." if not access.user else
               f"Ask an administrator to list your e-mail in {settings.roles_path()} as editor or admin.")
        return f"{first} Only editors and administrators named in the roles file may change anything. {how}"
    return (f"{first} Sign-in is not set up (docs/deployment.md says how), so only a browser on the computer "
            "that holds the database may change data. Start the dashboard there with "
            "`streamlit run dashboard.py --server.address 127.0.0.1`, open http://127.0.0.1:8501 on that "
            f"computer (not through a proxy), or use the command line: {by_hand}.")


def suppression_notice(access: Access) -> str:
    """Why the presentation-safe switch is locked on for this request."""
    because = access.reason or f"you act as {access.role}"
    return (f"Small counts stay hidden: {because}. Only the roles that the roles file names (by default editor "
            "and admin) may show exact numbers.")
