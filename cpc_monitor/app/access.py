"""Who may change data from the dashboard, decided from each request itself.

Until sign-in exists, the dashboard runs in local mode: a write (upload, confirm, duplicate
decision) is allowed only to a browser on the same machine. Where the server listens is not
enough: behind a reverse proxy on this machine every outside visitor arrives from loopback,
and a DNS-rebinding page reaches a loopback server under a foreign host name. So a request
may write only when its Host is a loopback name or address, the client address Streamlit
sees is loopback, it carries no forwarding header, and any Origin it names is loopback too."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Mapping

import streamlit as st

# Host names that always mean this machine (addresses are checked as addresses).
LOOPBACK_NAMES = ("localhost",)
# Headers a reverse proxy adds: their presence means the request came from elsewhere.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip", "x-forwarded-proto",
                      "via")


@dataclass(frozen=True)
class Access:
    """Whether this request may write, and why not when it may not."""

    allowed: bool
    client: str  # the client address Streamlit sees, for the audit log
    reason: str = ""


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
    return Access(True, who)


def current() -> Access:
    """The decision for the request running this script."""
    try:
        headers = dict(st.context.headers)
        client = st.context.ip_address
    except Exception:  # no request behind this run (a bare script): nothing proves it is local
        return Access(False, "unknown", "there is no browser request to check")
    # AppTest runs have no real request: no headers and no client address (a placeholder that
    # is no string). The page is then the local user's own process, as a script on this machine is.
    if not headers and not isinstance(client, str):
        return Access(True, "local")
    # Streamlit reports a client on 127.0.0.1 or ::1 as None (documented); with headers present
    # the request is real, so None here means a loopback client.
    if client is None and headers:
        client = "127.0.0.1"
    return judge(headers, client)


def read_only_notice(access: Access) -> str:
    """Why this page does not write, and how to make it."""
    return (f"Uploads and duplicate decisions are switched off: {access.reason}. The dashboard has no "
            "sign-in yet, so only a browser on the computer that holds the database may change data. Open "
            "http://127.0.0.1:8501 on that computer (not through a proxy), or use the command line: "
            "`python -m cpc_monitor import --db PATH TABLE FILE --dry-run`.")
