"""The chat page (``GET /``) and its static files: no build step, nothing from other origins."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

__all__ = ["WEB_DIR", "router"]

WEB_DIR = Path(__file__).resolve().parents[2] / "web"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def chat_page() -> FileResponse:
    """The customer chat page."""
    return FileResponse(
        WEB_DIR / "index.html",
        # Its Content-Security-Policy and the other security headers come from
        # api/middleware/security_headers.py, like every response's.
        headers={"Cache-Control": "no-cache"},
    )
