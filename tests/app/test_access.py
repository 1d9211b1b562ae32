"""The local-mode write guard decides from the request itself (issue 11, part 1)."""
import pytest

from cpc_monitor.app import access

LOCAL = {"Host": "127.0.0.1:8501", "Origin": "http://127.0.0.1:8501"}


@pytest.mark.parametrize("headers, client", [
    (LOCAL, "127.0.0.1"),
    ({"Host": "localhost:8501"}, "127.0.0.1"),
    ({"Host": "[::1]:8501", "Origin": "http://[::1]:8501"}, "::1"),
    ({"Host": "127.0.0.2:8501"}, "127.0.0.5"),
])
def test_a_local_browser_may_write(headers, client):
    decision = access.judge(headers, client)
    assert decision.allowed and decision.reason == "" and decision.client == client
    assert decision.role == "admin" and decision.who == f"local ({client})"  # local mode's browser acts as admin


@pytest.mark.parametrize("headers, client, reason", [
    # nginx on this machine forwarding an outside visitor: the client looks local
    ({**LOCAL, "X-Forwarded-For": "203.0.113.9"}, "127.0.0.1",
     "the request came through a proxy (it carries the header x-forwarded-for)"),
    ({**LOCAL, "X-Real-IP": "203.0.113.9"}, "127.0.0.1",
     "the request came through a proxy (it carries the header x-real-ip)"),
    ({**LOCAL, "Forwarded": "for=203.0.113.9"}, "127.0.0.1",
     "the request came through a proxy (it carries the header forwarded)"),
    # DNS rebinding: a foreign name that resolves to 127.0.0.1
    ({"Host": "attacker-rebind.example:8642"}, "127.0.0.1",
     "the page was opened as 'attacker-rebind.example', not as localhost or 127.0.0.1"),
    # a page elsewhere sending the request with a forged Origin
    ({"Host": "127.0.0.1:8501", "Origin": "http://evil.example:8642"}, "127.0.0.1",
     "the request was sent by a page from http://evil.example:8642, not by this dashboard"),
    # a visitor from the network
    ({"Host": "127.0.0.1:8501"}, "192.168.1.20", "the request comes from 192.168.1.20, not from this computer"),
    ({"Host": "127.0.0.1:8501"}, None, "the request comes from unknown, not from this computer"),
])
def test_proxied_rebound_or_remote_requests_are_read_only(headers, client, reason):
    decision = access.judge(headers, client)
    assert not decision.allowed and decision.role == "viewer" and not decision.exact_numbers
    assert decision.reason == reason
    assert access.read_only_notice(decision).startswith(f"Uploads and duplicate decisions are switched off: {reason}.")


@pytest.mark.parametrize("address, loopback", [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True),
                                               ("localhost", True), ("LOCALHOST", True), ("10.0.0.1", False),
                                               ("localhost.evil.example", False), ("", False), (None, False)])
def test_loopback_addresses(address, loopback):
    assert access.is_loopback(address) is loopback
