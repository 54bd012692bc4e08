"""The API's interactive docs at /docs: Swagger UI from the swagger-ui-bundle package and two
files of this project, all served from here (they work with no internet, and load nothing
from elsewhere into the origin that keeps the owners' tokens)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

PAGE = Path(__file__).resolve().parent.parent / "docs_page"
router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs() -> FileResponse:
    return FileResponse(PAGE / "index.html", media_type="text/html")


@router.get("/docs/start.js")
def start_script() -> FileResponse:
    return FileResponse(PAGE / "start.js", media_type="text/javascript")


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/docs/swagger", StaticFiles(directory=str(swagger_ui_path)), name="swagger")
