"""`raild camera probe [--config FILE] [--shots N] [--json]`: the command around the probe."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from raild.camera.errors import CameraError
from raild.camera.probe import EX_SOFTWARE, EX_UNAVAILABLE, merge_section, recommend, report_dict, report_text
from raild.config import Config, ConfigError


def run_probe_command(config: Config, shots: int, as_json: bool) -> int:
    if config.daemon.log_level != "debug":  # the report says it all; log lines would bury it
        logging.getLogger("raild.camera").setLevel(logging.ERROR)
    try:
        from raild.camera.probe_gphoto2 import run_probe

        report = run_probe(config.camera, shots)
    except ImportError:
        return _fail(as_json, "no_gphoto2", "python-gphoto2 is not installed: pip install gphoto2")
    except CameraError as exc:
        if exc.gphoto2_code in (-53, -60):  # claimed by gvfs, or by a running raild
            message = (
                f"{exc.message}; if raild itself is running, it holds the camera: `sudo systemctl stop raild` first"
            )
            return _fail(as_json, "camera_claimed", message, exc.gphoto2_code)
        return _fail(as_json, exc.code, exc.message, exc.gphoto2_code)
    rec = recommend(report, config)
    if rec.path is not None:
        doc = report_dict(report, rec)
        try:  # never print a section raild would refuse
            merge_section(config, doc["recommended"]["section"])
        except ConfigError as exc:
            return _fail(as_json, "bad_recommendation", "; ".join(exc.problems))
    if as_json:
        print(json.dumps(report_dict(report, rec), indent=2))
    else:
        print(report_text(report, rec))
    return 0 if rec.path is not None else EX_SOFTWARE


def _fail(as_json: bool, code: str, message: str, gphoto2_code: int | None = None) -> int:
    line = f"raild camera probe: {message}"
    if as_json:
        doc: dict[str, Any] = {"ok": False, "error": {"code": code, "message": message, "gphoto2_code": gphoto2_code}}
        print(json.dumps(doc, indent=2))
    print(line, file=sys.stderr)
    return EX_UNAVAILABLE
