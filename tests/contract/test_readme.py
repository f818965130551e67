"""The README documents every setting with its real default, and every CLI command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.models import CommandInfo

from mangaassist.cli import app
from mangaassist.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_settings_table(name: str) -> None:
    env = f"MANGAASSIST_{name.upper()}"
    rows = [line for line in README.splitlines() if line.startswith(f"| `{env}` |")]
    assert rows, f"README settings table lacks {env}"
    default = Settings.model_fields[name].default
    shown = json.dumps(default) if isinstance(default, dict | list | tuple) else str(default)
    assert f"`{shown}`" in rows[0], f"README gives the wrong default for {env}"


def _name(command: CommandInfo) -> str:
    assert command.callback is not None
    return command.name or command.callback.__name__.replace("_", "-")


def test_every_cli_command_is_documented() -> None:
    names = [_name(c) for c in app.registered_commands]
    for group in app.registered_groups:
        assert group.typer_instance is not None
        names += [f"{group.name} {_name(c)}" for c in group.typer_instance.registered_commands]
    for name in names:
        assert f"mangaassist {name}" in README, f"README does not mention `mangaassist {name}`"
