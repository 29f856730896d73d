"""The dashboard's JavaScript and CSS, served from this package (no CDN: machines may be
offline)."""

from __future__ import annotations

from pathlib import Path

import plotly
from fastapi import APIRouter
from fastapi.responses import FileResponse

from embedfin.dashboard.pages import HERE, PageError

_PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: Served by name only: no path from the URL reaches the file system.
FILES = {
    "htmx.min.js": (HERE / "static" / "htmx.min.js", "text/javascript"),
    "dashboard.js": (HERE / "static" / "dashboard.js", "text/javascript"),
    "dashboard.css": (HERE / "static" / "dashboard.css", "text/css"),
    "plotly.min.js": (_PLOTLY_JS, "text/javascript"),
}

router = APIRouter()


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    found = FILES.get(name)
    if found is None:
        raise PageError(404)
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=3600"})
