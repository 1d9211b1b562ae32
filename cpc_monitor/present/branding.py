"""The briefing pack's branding, read from a settings file (`briefing.yaml` at the project's
root): the pack's title, the partnership's name, a logo and the line that names the data's
source. Another CPC country brands its own pack by editing that file, not the code.

A broken file is one clear message with its line and the fix (BriefingSettingsError)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cpc_monitor.definitions import yamlfile
from cpc_monitor.errors import BriefingSettingsError

SETTINGS_ENV = "CPC_BRIEFING"  # names another settings file (tests, another country)
DEFAULT_SETTINGS = "briefing.yaml"
# The keys the file may hold, with what each is for (said back when one is misspelt).
KEYS = {"title": "the pack's title, on its first slide",
        "partnership": "the partnership's name, under the title and on every slide",
        "logo": "a PNG or JPEG file, relative to the settings file (optional)",
        "source": "who holds the data, named on every slide"}
LOGO_TYPES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Branding:
    """What a pack says about who made it."""

    title: str = "Briefing for the bilateral dialogue"
    partnership: str = "Child Protection Compact Partnership"
    source: str = "CPC Monitor database"
    logo: Path | None = None


def settings_path() -> Path:
    """The settings file: $CPC_BRIEFING, else briefing.yaml."""
    return Path(os.environ.get(SETTINGS_ENV) or DEFAULT_SETTINGS)


def load_branding(path: str | Path | None = None) -> Branding:
    """The branding in `path` (default: settings_path()). A missing default file gives the
    plain defaults; a file named but missing, or broken, raises BriefingSettingsError."""
    named = path is not None or bool(os.environ.get(SETTINGS_ENV))
    path = Path(path) if path is not None else settings_path()
    if not path.is_file():
        if named:
            raise BriefingSettingsError(f"{path}: the briefing settings file does not exist. Create it with the keys "
                                        f"{', '.join(KEYS)}, or leave it out to use the plain defaults.")
        return Branding()
    try:
        loaded = yamlfile.load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise BriefingSettingsError(f"{path}: not a text file (UTF-8). Save it as UTF-8 text.") from None
    except yamlfile.YamlProblem as problem:
        raise BriefingSettingsError(f"{path}, line {problem.line}: {problem}") from None
    data = loaded.data if loaded.data is not None else {}
    if not isinstance(data, dict):
        raise BriefingSettingsError(f"{path}, line 1: the file must be a list of `key: value` lines ("
                                    + ", ".join(KEYS) + ").")
    values: dict[str, object] = {}
    for key, value in data.items():
        line = loaded.line_of((key,))
        if key not in KEYS:
            raise BriefingSettingsError(f"{path}, line {line}: unknown key '{key}'. The keys are: "
                                        + "; ".join(f"{k} ({what})" for k, what in KEYS.items()) + ".")
        if not isinstance(value, str) or not value.strip():
            raise BriefingSettingsError(f"{path}, line {line}: `{key}` must be text ({KEYS[key]}), "
                                        f"for example `{key}: ...`.")
        values[key] = value.strip()
    if "logo" in values:
        values["logo"] = _logo(path, str(values["logo"]), loaded.line_of(("logo",)))
    return Branding(**values)


def _logo(settings: Path, value: str, line: int) -> Path:
    logo = (settings.parent / value).resolve()
    if logo.suffix.lower() not in LOGO_TYPES:
        raise BriefingSettingsError(f"{settings}, line {line}: the logo '{value}' must be a PNG or JPEG file "
                                    "(slides cannot hold other images).")
    if not logo.is_file():
        raise BriefingSettingsError(f"{settings}, line {line}: the logo '{value}' does not exist (looked for {logo}). "
                                    "Give its path relative to the settings file, or remove the `logo:` line.")
    return logo
