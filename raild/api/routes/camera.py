"""The camera: what it is, its settings, a test shot, preview and live view."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from raild.api.deps import Authed, CameraDep, DaemonDep
from raild.api.files import CAPTURE_NAME_PATTERN, contained_file, media_type_for
from raild.api.problems import AUTHED, BODY, ProblemError, problem_responses
from raild.camera.liveview import MEDIA_TYPE, mjpeg_stream

router = APIRouter(prefix="/camera", tags=["camera"], dependencies=[Authed])
CAPTURES_DIR = "captures"
_SETTING_VALUE = Field(None, min_length=1, max_length=64)


class Capabilities(BaseModel):
    capture: bool
    confirm: bool
    download: bool
    preview: bool
    settings: bool


class CameraInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    backend: str
    connected: bool
    model: str | None = None
    capabilities: Capabilities


class Setting(BaseModel):
    value: str
    choices: list[str]
    readonly: bool


class SettingsChange(BaseModel):
    """Only the settings raild manages; each value must be one of its choices."""

    model_config = ConfigDict(extra="forbid", strict=True)
    iso: str | None = _SETTING_VALUE
    shutterspeed: str | None = _SETTING_VALUE
    aperture: str | None = _SETTING_VALUE
    imageformat: str | None = _SETTING_VALUE
    capturetarget: str | None = _SETTING_VALUE


class TestShot(BaseModel):
    name: str
    size: int | None = Field(description="bytes; null when the backend cannot download")
    url: str | None
    confirmed: bool


def _settings_dict(settings: dict[str, Any]) -> dict[str, Setting]:
    return {name: Setting(**s.as_dict()) for name, s in settings.items()}


@router.get("", response_model=CameraInfo, responses=problem_responses(*AUTHED, 503))
async def camera_info(camera: CameraDep) -> CameraInfo:
    return CameraInfo(**camera.status(), capabilities=Capabilities(**camera.capabilities.as_dict()))


@router.get("/settings", response_model=dict[str, Setting], responses=problem_responses(*AUTHED, 409, 503))
async def get_settings(camera: CameraDep) -> dict[str, Setting]:
    return _settings_dict(await camera.get_settings())


@router.patch(
    "/settings", response_model=dict[str, Setting], responses=problem_responses(*AUTHED, *BODY, 403, 409, 503)
)
async def patch_settings(body: SettingsChange, camera: CameraDep) -> dict[str, Setting]:
    values = body.model_dump(exclude_none=True)
    if values:
        await camera.set_settings(values)
    return _settings_dict(await camera.get_settings())


@router.post("/capture", response_model=TestShot, status_code=201, responses=problem_responses(*AUTHED, 403, 409, 503))
async def capture(camera: CameraDep, daemon: DaemonDep) -> TestShot:
    """A test shot, saved under the state directory's captures/ folder."""
    folder = daemon.state_dir / CAPTURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = time.strftime("test-%Y%m%d-%H%M%S", time.gmtime()) + f"-{time.time_ns() % 10**6:06d}.jpg"
    shot = await camera.capture(folder / name)
    path: Path | None = await shot.download
    if path is None:
        return TestShot(name=name, size=None, url=None, confirmed=shot.confirmed)
    size = (await asyncio.to_thread(path.stat)).st_size
    return TestShot(name=path.name, size=size, url=f"/api/v1/camera/captures/{path.name}", confirmed=shot.confirmed)


@router.get(
    "/captures/{name}",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/jpeg": {}, "application/octet-stream": {}}, "description": "the test shot"},
        **problem_responses(*AUTHED, 404),
    },
)
async def get_capture(
    name: Annotated[str, PathParam(description="name returned by POST /camera/capture")],
    daemon: DaemonDep,
) -> FileResponse:
    if not re.fullmatch(CAPTURE_NAME_PATTERN, name):
        raise ProblemError(404, "no such capture", code="not_found")
    path = contained_file(daemon.state_dir / CAPTURES_DIR, name)
    return FileResponse(path, media_type=media_type_for(path))


@router.get(
    "/preview",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "one live-view frame"},
        **problem_responses(*AUTHED, 409, 503),
    },
)
async def preview(camera: CameraDep) -> Response:
    if not camera.capabilities.preview:
        raise ProblemError(503, f"the {camera.backend} camera cannot show a preview", code="camera_unsupported")
    return Response(await camera.preview(), media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get(
    "/liveview",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"multipart/x-mixed-replace": {}}, "description": "MJPEG stream of live-view frames"},
        **problem_responses(*AUTHED, 409, 503),
    },
)
async def liveview(camera: CameraDep, daemon: DaemonDep, request: Request) -> StreamingResponse:
    if not camera.capabilities.preview:
        raise ProblemError(503, f"the {camera.backend} camera cannot show live view", code="camera_unsupported")
    # One preview first: a camera that cannot deliver gets its 503/409 now,
    # not a 200 followed by an empty stream.
    await camera.preview()
    return StreamingResponse(
        mjpeg_stream(camera, daemon.config.camera.liveview_max_fps, request.is_disconnected),
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-store"},
    )
