"""Shared fixtures for the dashboard tests: one sample database per session, clean
Streamlit caches per test, the app's files named through CPC_DB / CPC_INDICATORS, and
AppTest helpers."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from cpc_monitor.intake.sample import build_sample

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "dashboard.py"
INDICATORS = ROOT / "indicators.yaml"
APP_TIMEOUT = 60  # s for one AppTest run: a cold evaluation on a busy 2-core machine


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic sample database (seed 1, scale 1), built once per test session."""
    path = tmp_path_factory.mktemp("sample") / "cpc.duckdb"
    build_sample(path)
    return path


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """st.cache_data is shared by every AppTest in the process (stack.md): start clean."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, sample_db: Path) -> Path:
    """Point the app at the sample database and the project's indicator file."""
    monkeypatch.setenv("CPC_DB", str(sample_db))
    monkeypatch.setenv("CPC_INDICATORS", str(INDICATORS))
    return sample_db


@pytest.fixture
def open_page(app_env: Path) -> Callable[..., AppTest]:
    """open_page("pages/x.py") -> an AppTest that has run the dashboard and then that page
    (None: the default page)."""

    def run(page: str | None = None, state: dict | None = None) -> AppTest:
        at = AppTest.from_file(str(DASHBOARD), default_timeout=APP_TIMEOUT)
        for key, value in (state or {}).items():
            at.session_state[key] = value
        at.run()
        if page is not None:
            at.switch_page(page).run()
        return at

    return run


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """file name -> bytes of every st.download_button drawn while the fixture is active
    (AppTest keeps the files in a media manager it throws away after each run). A download
    made on click (a callable as `data`) is made here at once."""
    seen: dict[str, bytes] = {}
    original = MediaFileManager.add
    original_deferred = MediaFileManager.add_deferred

    def add_deferred(self: MediaFileManager, data_callable, mimetype, coordinates, file_name=None, **kwargs) -> str:
        data = data_callable()
        if file_name:
            seen[file_name] = data.encode() if isinstance(data, str) else data
        return original_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    def add(self: MediaFileManager, path_or_data: bytes | str, mimetype: str, coordinates: str,
            file_name: str | None = None, is_for_static_download: bool = False) -> str:
        if file_name and isinstance(path_or_data, bytes):
            seen[file_name] = path_or_data
        return original(self, path_or_data, mimetype, coordinates, file_name, is_for_static_download)

    monkeypatch.setattr(MediaFileManager, "add", add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return seen


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database from `init` (schema and reference tables), built once."""
    from cpc_monitor.store.schema import init_database

    path = tmp_path_factory.mktemp("template") / "cpc.duckdb"
    init_database(path)
    return path


@pytest.fixture
def fresh_db(empty_template: Path, tmp_path: Path) -> Path:
    """A private empty database at <tmp>/data/cpc.duckdb for one test (backups and the
    audit log then land beside it, in the test's own folder)."""
    import shutil

    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "cpc.duckdb"
    shutil.copyfile(empty_template, path)
    return path
