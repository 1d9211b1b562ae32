"""The roles file: which signed-in e-mail is a viewer, an editor or an administrator, and
which roles may turn off small-count suppression.

    users:
      manager@example.org: editor
      lead@example.org: admin
    may_turn_off_suppression: [editor, admin]

Anyone not listed is a viewer. The file is read with line numbers (definitions/yamlfile) and
checked with pydantic; a file that cannot be used raises RolesFileError, one line per problem
with its line and the fix, and the caller then treats everyone as a viewer (fail closed)."""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from cpc_monitor.definitions import yamlfile
from cpc_monitor.errors import RolesFileError

Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
WRITERS = ("editor", "admin")  # the roles that may change data and indicators
DEFAULT_UNSUPPRESSED = ("editor", "admin")  # may turn off small-count suppression unless the file says otherwise
# Deliberately loose: the provider vouches for the address; this only catches a slip (a name, a missing @).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_KEYS = ("users", "may_turn_off_suppression")


def normalise_email(email: object) -> str:
    """An e-mail as the roles file and sign-in compare it: trimmed, lower case."""
    return str(email or "").strip().lower()


class _RolesModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    users: dict[str, Role] = {}
    may_turn_off_suppression: list[Role] = list(DEFAULT_UNSUPPRESSED)

    @field_validator("users", mode="before")
    @classmethod
    def _no_users_is_empty(cls, value: object) -> object:
        return {} if value is None else value


@dataclass(frozen=True)
class Roles:
    """Who has which role; everyone unlisted is a viewer."""

    users: dict[str, str] = field(default_factory=dict)
    unsuppressed: tuple[str, ...] = DEFAULT_UNSUPPRESSED

    def role_of(self, email: str) -> str:
        return self.users.get(normalise_email(email), "viewer")

    def may_turn_off_suppression(self, role: str) -> bool:
        return role in self.unsuppressed


def load_roles(path: str | os.PathLike) -> Roles:
    """The roles file at `path`; a missing file means no one is listed (everyone a viewer).
    Raises RolesFileError when the file exists but cannot be used."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Roles()
    except OSError as exc:
        raise RolesFileError([f"{path}: cannot be read ({exc.strerror}); check its permissions."]) from exc
    return _load(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, size: int) -> Roles:
    """Parsed once per version of the file (every page run asks for it, several times)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RolesFileError([f"{path}: cannot be read ({exc}); save it as UTF-8 text."]) from exc
    return parse_roles(text, path)


def parse_roles(text: str, name: str = "roles.yaml") -> Roles:
    """Check the text of a roles file; RolesFileError lists every problem with its line."""
    try:
        loaded = yamlfile.load(text)
    except yamlfile.YamlProblem as problem:
        raise RolesFileError([_line(name, problem.line, problem.message)]) from None
    data = {} if loaded.data is None else loaded.data
    if not isinstance(data, dict):
        raise RolesFileError([_line(name, 1, "the roles file must be a mapping with the key `users:` (e-mail: role "
                                              "lines under it); see roles.example.yaml.")])
    try:
        model = _RolesModel.model_validate(data)
    except ValidationError as exc:
        raise RolesFileError([_line(name, loaded.line_of(tuple(e["loc"])), _message(e)) for e in
                              exc.errors(include_url=False)]) from None
    problems, users = [], {}
    for email, role in model.users.items():
        key, line = normalise_email(email), loaded.line_of(("users", email))
        if not _EMAIL.match(key):
            problems.append(_line(name, line, f"'{email}' is not an e-mail address; write the address the person "
                                              "signs in with, e.g. `someone@example.org: editor`."))
        elif key in users:
            problems.append(_line(name, line, f"'{email}' is listed twice (addresses are compared without regard to "
                                              "capitals); keep one line for it."))
        users[key] = role
    if problems:
        raise RolesFileError(problems)
    return Roles(users, tuple(model.may_turn_off_suppression))


def _line(name: str, line: int, message: str) -> str:
    return f"{name}, line {line}: {message}" if line else f"{name}: {message}"


def _message(err: dict) -> str:
    """A pydantic error in the words of the roles file, with the fix."""
    loc, value, kind = tuple(err["loc"]), err.get("input"), err["type"]
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _KEYS, n=1, cutoff=0.6)
        hint = f"Did you mean '{close[0]}'?" if close else f"The keys are {' and '.join(_KEYS)}."
        return f"unknown key '{loc[-1]}'. {hint}"
    if kind == "literal_error":
        close = difflib.get_close_matches(str(value), ROLES, n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return f"'{value}' is not a role; use viewer, editor or admin.{hint}"
    if loc == ("users",):
        return "`users` must hold one `e-mail: role` line per person, indented under it."
    if loc == ("may_turn_off_suppression",):
        return "`may_turn_off_suppression` must be a list of roles, e.g. `[editor, admin]`."
    return f"{'.'.join(map(str, loc))}: {err['msg']}."
