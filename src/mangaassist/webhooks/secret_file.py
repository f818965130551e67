"""The signing secret of outbound webhooks when none is configured: one kept in a file.

The first process that needs it creates the file (exclusively, mode 0600) with a fresh
``whsec_`` secret; every later process, and every restart, reads the same one. That suits one
host (the embedded defaults keep it beside the SQLite store); deployments on several hosts set
``MANGAASSIST_CALLBACK_SECRET`` instead, so every worker signs with the same key.
"""

from __future__ import annotations

import os
from pathlib import Path

import structlog

from mangaassist.webhooks.signing import decode_secret, new_secret

__all__ = ["load_or_create_secret"]

log = structlog.get_logger("mangaassist.webhooks")


def load_or_create_secret(path: Path) -> str:
    """The secret stored at ``path``, created first if the file does not exist. Raises
    ``ValueError`` when the file holds something that is not a ``whsec_`` secret."""
    try:
        secret = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = new_secret()
        # Written whole under a private name, then linked into place: a racing reader never
        # sees a half-written file, and of two racing creators the first link wins.
        draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secret + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:  # another process won the race: use its secret
            return load_or_create_secret(path)
        finally:
            draft.unlink()
        log.warning("callback_secret_created", path=str(path))
    decode_secret(secret)
    return secret
