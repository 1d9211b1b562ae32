"""The nginx deployment (deploy/serve.py, docs/deployment.md): the configuration it writes.
Needs no nginx, except the syntax check, which is skipped where nginx is not installed."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from cpc_monitor import serving

sys.path.insert(0, str(ROOT / "deploy"))

import serve  # noqa: E402  deploy/serve.py

PORTS = [8601, 8602, 8603]


@pytest.fixture
def config(tmp_path: Path) -> str:
    return serve.nginx_config(tmp_path, "127.0.0.1:8080", PORTS)


def _block(config: str, head: str) -> str:
    """The text of the block that starts with `head` ... {, up to its closing brace."""
    start = config.index(head)
    depth, i = 0, config.index("{", start)
    for i in range(i, len(config)):
        depth += {"{": 1, "}": -1}.get(config[i], 0)
        if depth == 0:
            return config[start:i + 1]
    raise AssertionError(f"{head} is not closed")


def test_three_processes_each_reachable_only_through_its_route(config):
    new = _block(config, "upstream cpc_new")
    assert "least_conn;" in new
    assert re.findall(r"server 127\.0\.0\.1:(\d+)", new) == [str(p) for p in PORTS]
    for n, port in enumerate(PORTS, start=1):
        assert f"upstream cpc_{n} {{ server 127.0.0.1:{port} max_fails=0; }}" in config
    routes = _block(config, "map $cookie_cpc_route $cpc_upstream")
    assert "default cpc_new;" in routes
    assert re.findall(r'"(\d)" (cpc_\d);', routes) == [("1", "cpc_1"), ("2", "cpc_2"), ("3", "cpc_3")]
    assert "proxy_pass http://$cpc_upstream;" in config


def test_sessions_are_sticky(config):
    """A browser without the cookie is given the number of the process that answered it."""
    cookies = _block(config, 'map "$cpc_upstream $upstream_addr" $cpc_route_cookie')
    for n, port in enumerate(PORTS, start=1):
        assert f'"cpc_new 127.0.0.1:{port}" "cpc_route={n}; Path=/; HttpOnly; SameSite=Lax";' in cookies
    assert 'default "";' in cookies  # a browser that has a valid cookie keeps it
    assert "add_header Set-Cookie $cpc_route_cookie;" in config


def test_websockets_and_the_write_guard_headers(config):
    location = _block(config, "location /")
    for line in ("proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;",
                 "proxy_set_header Connection $connection_upgrade;",
                 # Streamlit matches the WebSocket's Origin against the Host, port included.
                 "proxy_set_header Host $http_host;",
                 # The write guard (cpc_monitor/app/access.py) reads these as "through a proxy".
                 "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                 "proxy_set_header X-Real-IP $remote_addr;"):
        assert line in location
    timeout = re.search(r"proxy_read_timeout (\d+)([smhd]);", location)
    assert timeout and int(timeout.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[timeout.group(2)] >= 3600
    assert "listen 127.0.0.1:8080;" in config
    assert not re.search(r"@[A-Z_]+@", config), "a template field was left unfilled"


def test_allowed_hosts_keep_the_project_names_and_add_the_served_one():
    hosts = serve.allowed_hosts(["cpc.example.org"])
    assert hosts[:2] == ["localhost", "127.0.0.1"] and hosts[-1] == "cpc.example.org"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (`apt-get install nginx`)")
def test_nginx_accepts_the_config(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text(serve.nginx_config(tmp_path, "127.0.0.1:8080", PORTS))
    done = subprocess.run(["nginx", "-t", "-q", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# ----------------------------------------------------------------------------- through nginx, in a browser

def _nginx_or_skip() -> None:
    """Like chromium (browser_support): CI installs nginx, so CI=true makes its absence a failure."""
    if shutil.which("nginx") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (.ci/run installs it)")
        pytest.skip("nginx is not installed (`apt-get install nginx`)")


@pytest.mark.timeout(600)
def test_three_processes_behind_nginx_serve_sticky_read_only_pages(sample_db, tmp_path):
    """The deployment end to end: the page draws through the proxy (its WebSocket upgraded),
    each browser keeps to one process, browsers are spread over the three, and the Data page
    is read-only because the request came through a proxy."""
    _nginx_or_skip()
    from browser_support import ERROR, PROJECTOR, WAIT_MS, chromium, skip_without_chromium

    skip_without_chromium()
    with serve.serving(3, serving.free_port(), db=str(sample_db), run=tmp_path / "run") as deployment, \
            chromium() as browser:
        routes, contexts = [], []
        for _ in range(3):  # each stays open, holding its WebSocket, so least_conn picks another process
            context = browser.new_context(viewport=PROJECTOR)
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(deployment.url)
            page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
            routes.append(next(c["value"] for c in context.cookies() if c["name"] == "cpc_route"))
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Data", exact=True).click()
        # The notice heads the Upload tab and the Duplicates tab alike: the first is the one shown.
        page.get_by_text("Uploads and duplicate decisions are switched off: the request came through a proxy",
                         exact=False).first.wait_for()
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
        assert page.locator(ERROR).count() == 0
        for context in contexts:
            context.close()
    log = (tmp_path / "run" / "access.log").read_text().splitlines()  # complete once nginx has stopped
    assert sorted(routes) == ["1", "2", "3"]
    sockets = [line for line in log if "/_stcore/stream" in line]
    assert len(sockets) == 3 and all(" 101 " in line for line in sockets)
    assert len({line.split("upstream=")[1].split()[0] for line in sockets}) == 3
