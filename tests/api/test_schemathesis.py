"""schemathesis against the app over the simulated rig (never real hardware):
examples, coverage and fuzzing per operation, then stateful sequences. Any server
error, undocumented status, wrong content type or schema violation fails.

The daemon starts (and homes) in the app's ASGI lifespan, on the event-loop thread
schemathesis uses for every request, so the rig and the requests share a loop.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from raild.api.app import create_app
from raild.daemon import Daemon

from .helpers import AUTH, TOKEN, sim_config

_STATE_DIR = Path(tempfile.mkdtemp(prefix="raild-schemathesis-"))
atexit.register(shutil.rmtree, _STATE_DIR, True)
# Login failures are limited per client; a generous limit keeps the fuzzer from
# spending every login example on 429s (which are still documented and allowed).
# schemathesis' ASGI client calls the app "testserver": a name raild must be told of.
_CONFIG = sim_config(
    api={"login_attempts_per_minute": 1000, "allowed_hosts": ["testserver"]},
    sim={"start_position_um": 400.0},
    homing={"backoff_um": 300.0},
)  # each test item homes: keep it short
_DAEMON = Daemon(_CONFIG, _STATE_DIR, TOKEN, sim=True)
APP = create_app(_DAEMON)


@contextlib.asynccontextmanager
async def _homed_rig(_: object) -> AsyncIterator[None]:
    """The daemon on schemathesis' loop, homed, so stacks and moves can really run."""
    await _DAEMON.start()
    try:
        await _DAEMON.rail.home()
        yield
    finally:
        await _DAEMON.stop()


APP.router.lifespan_context = _homed_rig

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.update(headers=dict(AUTH))
# Endless streams have their own tests (test_events, test_liveview).
schema = schema.exclude(path_regex=r"/(events|camera/liveview)$")

_SETTINGS = settings(
    max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


# Values valid by the schema that the rig still refuses with a documented 422:
# camera setting values must be among the camera's live choices, targets and
# plans must lie within the configured soft limits. The schema cannot carry those.
# Preset names are checked by the stack layer (characters, no "..") with a 422.
_LIVE_VALIDATION = {
    ("PATCH", "/api/v1/camera/settings"),
    ("POST", "/api/v1/motion/move"),
    ("POST", "/api/v1/stacks"),
    ("POST", "/api/v1/focus/scan"),
    ("POST", "/api/v1/stacks/{stack_id}/extend"),
    ("PUT", "/api/v1/presets/{name}"),
    ("GET", "/api/v1/presets/{name}"),
    ("DELETE", "/api/v1/presets/{name}"),
}


def _excluded(case: schemathesis.Case) -> list[Any]:
    return [positive_data_acceptance] if (case.method.upper(), case.path) in _LIVE_VALIDATION else []


@schema.parametrize()
@_SETTINGS
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    response = case.call_and_validate(excluded_checks=_excluded(case))
    # Beyond what the schema says: every error, whatever raised it, is problem+json (API contract).
    if response.status_code >= 400:
        content_types = [v for k, values in response.headers.items() if k.lower() == "content-type" for v in values]
        assert content_types == ["application/problem+json"], (response.status_code, content_types)


class _StateMachine(schema.as_state_machine()):  # type: ignore[misc]
    def validate_response(
        self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        case.validate_response(
            response,
            additional_checks=additional_checks,
            excluded_checks=_excluded(case),
            transport_kwargs=kwargs or None,
            recorder=getattr(self, "recorder", None),
        )


TestStateful = _StateMachine.TestCase
TestStateful.settings = settings(
    max_examples=15,
    stateful_step_count=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
