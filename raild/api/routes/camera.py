"""The camera: what it is, its settings, a test shot, preview and live view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from raild.api.deps import Authed, CameraDep, DaemonDep
from raild.api.files import media_type_for
from raild.api.problems import AUTHED, BODY, problem_responses
from raild.camera.liveview import MEDIA_TYPE, liveview_stream, preview_frame

router = APIRouter(prefix="/camera", tags=["camera"], dependencies=[Authed])
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
    shot = await daemon.test_shots.take(camera)
    url = f"/api/v1/camera/captures/{shot.name}" if shot.downloaded else None
    return TestShot(name=shot.name, size=shot.size, url=url, confirmed=shot.confirmed)


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
    path = daemon.test_shots.file(name)
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
    return Response(await preview_frame(camera), media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get(
    "/liveview",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"multipart/x-mixed-replace": {}}, "description": "MJPEG stream of live-view frames"},
        **problem_responses(*AUTHED, 409, 503),
    },
)
async def liveview(camera: CameraDep, daemon: DaemonDep, request: Request) -> StreamingResponse:
    return StreamingResponse(
        await liveview_stream(camera, daemon.config.camera.liveview_max_fps, request.is_disconnected),
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-store"},
    )
