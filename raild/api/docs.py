"""`/docs`: Swagger UI served from the installed package, never from a CDN.

The phone or laptop talking to the rig is often on a bench Wi-Fi with no internet,
so every asset the page loads comes from this daemon.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_ASSETS = "/docs/assets"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{init}"></script>
</body>
</html>
"""

# A file, not an inline script: the Content-Security-Policy allows no inline code.
DOCS_INIT = "/docs/init.js"
_INIT = """window.ui = SwaggerUIBundle({{
  url: "{openapi}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  // the default would fetch a validator badge from the internet
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis]
}});
"""


def _assets_dir() -> Path | None:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    path = Path(str(swagger_ui_path))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def install_docs(app: FastAPI) -> None:
    assets = _assets_dir()
    if assets is None:
        # Without the bundle there is still the raw document; say so instead of
        # serving a page that would try to reach the internet.
        @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
        async def docs_missing() -> HTMLResponse:
            return HTMLResponse(
                "<p>Swagger UI assets are not installed "
                "(pip install swagger-ui-bundle-v2). The API is described by "
                '<a href="/openapi.json">/openapi.json</a>.</p>'
            )

        return

    page = _PAGE.format(title=app.title, assets=DOCS_ASSETS, init=DOCS_INIT)
    init = _INIT.format(openapi=app.openapi_url)
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(DOCS_INIT, include_in_schema=False)
    async def docs_init() -> Response:
        return Response(init, media_type="text/javascript")
