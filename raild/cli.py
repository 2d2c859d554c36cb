"""Command line: `raild serve | token | check | safe-stop | sim-rig | sim-grbl | camera probe`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from raild import __version__
from raild.config import EX_CONFIG, Config, ConfigError, find_config_path, load_config
from raild.logs import setup_logging


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # Bad flags are configuration errors: one line, EX_CONFIG, so systemd does not loop.
        print(f"raild: {message} (see '{self.prog} --help')", file=sys.stderr)
        sys.exit(EX_CONFIG)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (allowed: 1-65535)") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (allowed: 1-65535)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="raild", description="Focus-stacking rail daemon")
    parser.add_argument("--version", action="version", version=f"raild {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("serve", help="run the daemon")
    p.add_argument("--config", help="TOML config file (default: $RAILD_CONFIG, /etc/raild/raild.toml)")
    p.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    p.add_argument("--port", type=_port, help="port to listen on (default 8000)")
    p.add_argument("--state-dir", help="token, stacks and frames (default /var/lib/raild)")
    p.add_argument(
        "--sim", action="store_true", help="simulate the rig: pigpiod emulator, virtual rail, simulated camera"
    )

    p = sub.add_parser("token", help="print the API token and a single-use login URL (QR code on a terminal)")
    p.add_argument("--config")
    p.add_argument("--state-dir")
    p.add_argument("--url-host", help="host name or address for the login URL (default: this machine's LAN address)")
    p.add_argument("--url-port", type=_port, help="port for the login URL (default: the running daemon's, else config)")
    p.add_argument(
        "--qr", action=argparse.BooleanOptionalAction, default=None, help="draw the QR code (default: on a terminal)"
    )

    p = sub.add_parser("check", help="check config, pigpiod, camera and storage")
    p.add_argument("--config")
    p.add_argument("--state-dir")
    p.add_argument(
        "--fix-grbl", action="store_true", help="write the $ settings raild needs to the grbl board ([grbl] port), once"
    )

    p = sub.add_parser("safe-stop", help="halt waves and disable the driver")
    p.add_argument("--config")

    p = sub.add_parser("sim-rig", help="run the pigpiod emulator with the virtual rail")
    p.add_argument("--config")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8888)
    p.add_argument("--inspect-port", type=_port, default=None, help="JSON inspection side channel (default: port + 1)")

    p = sub.add_parser("camera", help="camera tools")
    camera_sub = p.add_subparsers(dest="camera_command", required=True, parser_class=_Parser)
    p = camera_sub.add_parser("probe", help="find the USB camera, time its capture paths, recommend [camera]")
    p.add_argument("--config")
    p.add_argument("--shots", type=_shots, default=3, help="shots per capture path (default 3)")
    p.add_argument("--json", action="store_true", help="the whole report as JSON (for bug reports)")

    p = sub.add_parser("sim-grbl", help="run the grbl 1.1 emulator with the virtual rail")
    p.add_argument("--config")
    p.add_argument("--host", default="127.0.0.1")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal and print its path")
    where.add_argument("--port", type=_port, default=None, help="serve on TCP (default 2000): socket://host:port")
    p.add_argument(
        "--inspect-port", type=_port, default=None, help="JSON inspection side channel (default: port + 1; pty: any)"
    )
    return parser


def _shots(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of shots (allowed: 1-50)") from None
    if not 1 <= value <= 50:
        raise argparse.ArgumentTypeError(f"{value} is not a number of shots (allowed: 1-50)")
    return value


def _load(args: argparse.Namespace) -> Config:
    config = load_config(find_config_path(getattr(args, "config", None)))
    api: dict[str, object] = {}
    if getattr(args, "host", None) and args.command == "serve":
        api["host"] = args.host
    if getattr(args, "port", None) and args.command == "serve":
        api["port"] = args.port
    daemon: dict[str, object] = {}
    if getattr(args, "state_dir", None):
        daemon["state_dir"] = args.state_dir
    if api or daemon:
        from raild.config import validate_data

        data = config.model_dump()
        data["api"].update(api)
        data["daemon"].update(daemon)
        config = validate_data(data, "command line")
    return config


def _state_dir(config: Config, args: argparse.Namespace) -> Path:
    from raild.config import DaemonConfig
    from raild.paths import resolve_state_dir, user_state_dir

    explicit = bool(getattr(args, "state_dir", None))
    requested = config.daemon.state_dir
    # A simulated rig never writes to the system's state dir (not even as root): its
    # token and stacks would mix with a real install's. A dir set on purpose still wins.
    if getattr(args, "sim", False) and not explicit and requested == DaemonConfig.model_fields["state_dir"].default:
        requested = str(user_state_dir() / "sim")
    return resolve_state_dir(requested, explicit=explicit)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = _load(args)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return EX_CONFIG
    setup_logging(config.daemon.log_level)

    if args.command == "serve":
        from raild.paths import load_or_create_token
        from raild.serve import run_serve

        try:
            state_dir = _state_dir(config, args)
        except PermissionError as exc:
            print(f"raild: {exc}; pass a writable --state-dir", file=sys.stderr)
            return EX_CONFIG
        token = load_or_create_token(state_dir)
        from raild.paths import weak_token_problem

        problem = weak_token_problem(token)
        if problem:
            print(f"raild: {problem}", file=sys.stderr)
            return EX_CONFIG
        return run_serve(config, state_dir, token, sim=args.sim)

    if args.command == "token":
        from raild.paths import load_or_create_token

        try:
            state_dir = _state_dir(config, args)
        except PermissionError as exc:
            print(f"raild: {exc}; pass a writable --state-dir", file=sys.stderr)
            return EX_CONFIG
        token = load_or_create_token(state_dir)
        from raild.pairlink import print_token

        try:
            print_token(config, state_dir, token, host=args.url_host, port=args.url_port, qr=args.qr)
        except OSError as exc:
            print(f"raild: cannot write a pairing code in {state_dir}: {exc}", file=sys.stderr)
            return EX_CONFIG
        return 0

    if args.command == "check" and args.fix_grbl:
        from raild.drives.grbl.fix import run_fix_grbl

        return run_fix_grbl(config)

    if args.command == "check":
        from raild.check import run_check

        return run_check(config, args)

    if args.command == "safe-stop":
        from raild.hw.safe_stop import safe_stop

        return safe_stop(config)

    if args.command == "sim-rig":
        from raild.sim.standalone import run_sim_rig

        return run_sim_rig(config, args.host, args.port, args.inspect_port)

    if args.command == "camera":
        from raild.camera.probe_cli import run_probe_command

        return run_probe_command(config, args.shots, args.json)
    if args.command == "sim-grbl":
        from raild.sim.grbl.standalone import run_sim_grbl

        return run_sim_grbl(config, args.host, args.port, args.pty, args.inspect_port)

    return 2


if __name__ == "__main__":
    sys.exit(main())
