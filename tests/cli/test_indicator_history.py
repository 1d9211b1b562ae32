"""`history` and `restore-indicators` on the command line (issue 9): list the kept versions,
diff two, bring one back (checked, versioned, audited); mistakes are one clear line, exit 1."""
from __future__ import annotations

from pathlib import Path

from cpc_monitor.definitions import authoring, versions
from cpc_monitor.definitions.authoring import Point
from cpc_monitor.store import audit
from helpers import BASE_YAML, run_cli

EDITED = authoring.set_plan(BASE_YAML, "protection.child_victims", None, [Point(2030, 40, "assumed")])


def test_history_lists_diffs_and_restore_brings_a_version_back(fresh_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "indicators.yaml"
    path.write_text(BASE_YAML, encoding="utf-8")
    r = run_cli("history", "--indicators", str(path))
    assert r.returncode == 0 and "has no saved versions yet" in r.stdout

    versions.save(path, EDITED, loaded=BASE_YAML, who="pm@example.org", db_path=fresh_db)
    r = run_cli("history", "--indicators", str(path))
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()
    assert rows[0].split() == ["version", "when", "(UTC)", "who", "what", "changed"]
    assert rows[2].split()[0] == "2" and "pm@example.org" in rows[2]
    assert rows[2].endswith("changed protection.child_victims (targets)")

    r = run_cli("history", "--indicators", str(path), "--diff", "1", "2")
    assert r.returncode == 0
    assert "-      - {year: 2030, value: 25, source: assumed}\n" in r.stdout
    assert "+      - {year: 2030, value: 40, source: assumed}\n" in r.stdout

    r = run_cli("restore-indicators", "1", "--indicators", str(path), "--db", str(fresh_db))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (f"restored version 1 of {path} as version 3: changed protection.child_victims "
                        "(targets)\n")
    assert path.read_text(encoding="utf-8") == BASE_YAML
    assert list(audit.entries(fresh_db)["action"]) == ["indicators_save", "indicators_restore"]


def test_restore_of_a_missing_version_is_one_line(fresh_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "indicators.yaml"
    path.write_text(BASE_YAML, encoding="utf-8")
    r = run_cli("restore-indicators", "4", "--indicators", str(path), "--db", str(fresh_db))
    assert r.returncode == 1
    assert r.stderr == ("error: there is no version 4 of indicators.yaml; its history has no versions yet. "
                        "List them with `python -m cpc_monitor history`.\n")
    assert path.read_text(encoding="utf-8") == BASE_YAML


def test_a_restore_that_no_longer_passes_the_check_is_refused(fresh_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "indicators.yaml"
    broken = BASE_YAML.replace("table: victims", "table: victimz")
    path.write_text(broken, encoding="utf-8")  # version 1 will be this hand-broken file
    versions.save(path, EDITED, loaded=broken, who="pm", db_path=fresh_db)
    r = run_cli("restore-indicators", "1", "--indicators", str(path), "--db", str(fresh_db))
    assert r.returncode == 1
    assert "indicator protection.child_victims: there is no table 'victimz'" in r.stderr
    assert r.stderr.rstrip().endswith("error: the indicator file was not saved: it has 1 error; fix them and "
                                      "save again.")
    assert path.read_text(encoding="utf-8") == EDITED
