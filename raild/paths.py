"""State directory and API token."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from raild.logs import log_event

log = logging.getLogger("raild.paths")
TOKEN_FILE = "api_token"
TOKEN_ENV = "RAILD_API_TOKEN"


def user_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "raild"


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def resolve_state_dir(requested: str, explicit: bool) -> Path:
    """Use the requested dir; fall back to a per-user one when the default is not writable.

    An explicit --state-dir that cannot be written is an error, not a silent fallback.
    """
    path = Path(requested).expanduser()
    if _writable(path):
        return path
    if explicit:
        raise PermissionError(f"state dir {path} is not writable")
    fallback = user_state_dir()
    if not _writable(fallback):
        raise PermissionError(f"neither {path} nor {fallback} is writable")
    log_event(log, "state dir not writable, using per-user dir", logging.WARNING, wanted=str(path), using=str(fallback))
    return fallback


def load_or_create_token(state_dir: Path) -> str:
    """RAILD_API_TOKEN wins; else the 0600 file in the state dir, created once."""
    env = os.environ.get(TOKEN_ENV)
    if env:
        return env.strip()
    path = state_dir / TOKEN_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    # O_EXCL: two processes racing to create it keep one token, never a mixed file.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
        f.flush()
        os.fsync(f.fileno())
    log_event(log, "api token created", path=str(path))
    return token


MIN_TOKEN_CHARS = 22  # 22 URL-safe characters carry 128 bits


def weak_token_problem(token: str) -> str | None:
    """Why the daemon must not start with this token, or None. Checked at start-up,
    for the generated file and for RAILD_API_TOKEN alike."""
    source = f"${TOKEN_ENV}" if os.environ.get(TOKEN_ENV) else f"the token file ({TOKEN_FILE} in the state dir)"
    if len(token) < MIN_TOKEN_CHARS:
        return (
            f"the API token from {source} is {len(token)} characters; at least {MIN_TOKEN_CHARS} are required. "
            f"Use a random one (python3 -c 'import secrets; print(secrets.token_urlsafe(32))'), "
            f"or unset {TOKEN_ENV} and delete the file to have one generated"
        )
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        return f"the API token from {source} must be printable ASCII without spaces (it is sent in an HTTP header)"
    return None
