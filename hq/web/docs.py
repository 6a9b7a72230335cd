"""The OpenAPI page at /v1/docs with Swagger UI served from the package (no CDN).

Bank networks are closed, so the page's script and style come from an installed
wheel's files under /v1/docs-assets/. The wheel is ``swagger-ui-py`` (Swagger UI 5):
``swagger-ui-bundle`` 1.1.0, the newest release, carries Swagger UI 4.15, which
refuses the OpenAPI 3.1 document FastAPI writes ("Unable to render this definition").
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/v1/docs-assets"
ASSET_DIR = Path(swagger_ui.__file__).parent / "static"


def mount_docs(app: FastAPI, openapi_url: str, title: str) -> None:
    """Serve /v1/docs and its assets (create the app with ``docs_url=None``)."""
    app.mount(ASSETS, StaticFiles(directory=ASSET_DIR), name="swagger-ui")

    @app.get("/v1/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{title} - API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png")
