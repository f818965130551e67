"""The schema registry: one JSON Schema per (source, detail-type), checked at publish.

Partners and our own rules rely on an event's detail having the fields its detail-type
promises; an event that breaks its schema is refused at ``put_events`` with the first error's
path, instead of reaching targets that would fail on it later. The built-in schemas ship in
``schema_files/`` named ``<source>--<detail-type>.json``; a directory of the same form adds or
replaces schemas. Events of a pair without a schema pass unless the registry is strict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from mangaassist.events.envelope import Event, InvalidEvent

__all__ = ["BUILTIN_SCHEMAS", "SchemaRegistry"]

BUILTIN_SCHEMAS = Path(__file__).with_name("schema_files")
_SEPARATOR = "--"


def _schema_files(folder: Path) -> Iterator[tuple[tuple[str, str], dict[str, Any]]]:
    for path in sorted(folder.glob("*.json")):
        source, sep, detail_type = path.stem.partition(_SEPARATOR)
        if not sep:
            raise ValueError(f"{path}: name schema files `<source>--<detail-type>.json`")
        yield (source, detail_type), json.loads(path.read_text(encoding="utf-8"))


class SchemaRegistry:
    """Validators by (source, detail-type)."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}

    @classmethod
    def load(cls, *folders: Path, strict: bool = False) -> SchemaRegistry:
        """The built-in schemas, then those of ``folders`` (later ones replace earlier)."""
        registry = cls(strict=strict)
        for folder in (BUILTIN_SCHEMAS, *folders):
            for (source, detail_type), schema in _schema_files(folder):
                registry.register(source, detail_type, schema)
        return registry

    def register(self, source: str, detail_type: str, schema: Mapping[str, Any]) -> None:
        """Add or replace the schema of a pair; raises ``ValueError`` for a broken schema."""
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise ValueError(f"schema of {source} {detail_type}: {exc.message}") from None
        self._validators[(source, detail_type)] = Draft202012Validator(schema)

    def schema(self, source: str, detail_type: str) -> Mapping[str, Any] | None:
        """The schema registered for a pair, or None."""
        validator = self._validators.get((source, detail_type))
        if validator is None or isinstance(validator.schema, bool):
            return None
        return validator.schema

    def pairs(self) -> list[tuple[str, str]]:
        """Every (source, detail-type) with a schema, sorted."""
        return sorted(self._validators)

    def check(self, event: Event) -> None:
        """Raise ``InvalidEvent`` when the event's detail breaks its schema."""
        validator = self._validators.get((event.source, event.detail_type))
        if validator is None:
            if self.strict:
                raise InvalidEvent(
                    "EVENT_SCHEMA_UNKNOWN",
                    f"no schema is registered for {event.source} {event.detail_type}",
                )
            return
        error = next(iter(validator.iter_errors(event.detail)), None)
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "(the detail)"
            raise InvalidEvent(
                "EVENT_SCHEMA_INVALID",
                f"{event.source} {event.detail_type}: detail/{where}: {error.message}",
            )
