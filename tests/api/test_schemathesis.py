"""schemathesis against the app over the simulated rig (never real hardware):
examples, coverage and fuzzing per operation, then stateful sequences. Any server
error, undocumented status, wrong content type or schema violation fails.

The app starts its daemon in its ASGI lifespan, on the event-loop thread
schemathesis uses for every request, so the rig and the requests share a loop.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from raild.api.app import create_app
from raild.daemon import Daemon

from .helpers import AUTH, TOKEN, sim_config

_STATE_DIR = Path(tempfile.mkdtemp(prefix="raild-schemathesis-"))
# Login failures are limited per client; a generous limit keeps the fuzzer from
# spending every login example on 429s (which are still documented and allowed).
_CONFIG = sim_config(api={"login_attempts_per_minute": 1000})
_DAEMON = Daemon(_CONFIG, _STATE_DIR, TOKEN, sim=True)
APP = create_app(_DAEMON, manage_daemon=True)

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.update(headers=dict(AUTH))
# Endless streams have their own tests (test_events, test_liveview).
schema = schema.exclude(path_regex=r"/(events|camera/liveview)$")

_SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))


# Values valid by the schema that the rig still refuses with a documented 422:
# camera setting values must be among the camera's live choices, targets and
# plans must lie within the configured soft limits. The schema cannot carry those.
_LIVE_VALIDATION = {("PATCH", "/api/v1/camera/settings"), ("POST", "/api/v1/motion/move"),
                    ("POST", "/api/v1/stacks")}


@schema.parametrize()
@_SETTINGS
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    excluded = []
    if (case.method.upper(), case.path) in _LIVE_VALIDATION:
        excluded.append(positive_data_acceptance)
    case.call_and_validate(excluded_checks=excluded)


_StateMachine = schema.as_state_machine()
TestStateful = _StateMachine.TestCase
TestStateful.settings = settings(max_examples=15, stateful_step_count=6, deadline=None,
                                 derandomize=True, database=None,
                                 suppress_health_check=list(HealthCheck))
