"""``python -m mangaassist`` runs the CLI."""

from __future__ import annotations

from mangaassist.cli import main

main()
