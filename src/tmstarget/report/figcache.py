"""Rendered report figures kept on disk, keyed by exactly what determines them (issue 28).

A participant report draws the same figures every time it is rebuilt from the same outputs (a
coil plan added, a MADRS table updated ...), and drawing them (nilearn, matplotlib, the template
masks) costs seconds. Each figure is therefore stored once under ``$TMSTARGET_DATA/report-figures``
(:func:`tmstarget._utils.cache.cache_dir`), in a file named by the SHA-256 of

- the figure's name and every input of its drawing function (arrays by dtype, shape and bytes;
  numbers by their exact ``repr``; mappings by sorted key), and
- :func:`code_digest`: tmstarget's version, the bytes of all its Python sources (so any change of
  the drawing code draws anew) and the versions of the libraries that draw.

A cached figure is the exact text the drawing function returned, so a report is byte-identical
whether its figures came from the cache or were drawn. Entries are written atomically (temporary
file, then rename) and carry a checksum; an entry that is unreadable, truncated, corrupt or for
another key is ignored and drawn again. A failed write only logs: the cache never fails a report.
A figure whose drawing raises is not cached (the report shows the reason, as before).

The folder is kept under ``$TMSTARGET_FIGURE_CACHE_MB`` megabytes (default
:data:`DEFAULT_MAX_MB`): a hit refreshes its entry's modification time, and the first write of a
process removes the least recently used entries beyond the cap (:func:`prune`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import os
import struct
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: Sub-folder of the data cache holding the figures.
FIGURES_SUBDIR = "report-figures"
#: Layout of a cache entry; a change makes every older entry a miss.
CACHE_FORMAT = 1
#: Default size cap of the figure folder (MB): about 600 participant reports of ~0.8 MB.
DEFAULT_MAX_MB = 500.0
#: Libraries whose versions can change a drawn figure.
_LIBRARIES = ("numpy", "scipy", "matplotlib", "nilearn", "nibabel", "mne", "jinja2")


def figures_dir() -> Path:
    """Return the folder of the cached report figures (``$TMSTARGET_DATA/report-figures``)."""
    from .._utils.cache import cache_dir

    return cache_dir() / FIGURES_SUBDIR


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of tmstarget's version and Python sources and of the drawing libraries' versions.

    Computed once per process (reading the package's sources takes a few milliseconds).
    """
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(f"tmstarget {__version__}\n".encode())
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    for lib in _LIBRARIES:
        try:
            h.update(f"{lib} {version(lib)}\n".encode())
        except PackageNotFoundError:
            h.update(f"{lib} -\n".encode())
    return h.hexdigest()


def _feed(h, obj: Any) -> None:
    """Add ``obj`` to the hash ``h``, type-tagged so that different inputs never collide."""
    if obj is None or isinstance(obj, bool):
        h.update(f"c{obj!r};".encode())
    elif isinstance(obj, (int, np.integer)):
        h.update(f"i{int(obj)};".encode())
    elif isinstance(obj, (float, np.floating)):
        v = float(obj)
        h.update(b"f" + (struct.pack("<d", v) if not math.isnan(v) else b"nan") + b";")
    elif isinstance(obj, str):
        b = obj.encode("utf-8")
        h.update(f"s{len(b)}:".encode() + b)
    elif isinstance(obj, bytes):
        h.update(f"b{len(obj)}:".encode() + obj)
    elif isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        if arr.dtype.hasobject:
            raise TypeError("object arrays have no cache key")
        h.update(f"a{arr.dtype.str}{arr.shape}:".encode())
        h.update(memoryview(arr.reshape(-1)).cast("B"))
    elif isinstance(obj, (list, tuple)):
        h.update(f"l{len(obj)}[".encode())
        for item in obj:
            _feed(h, item)
        h.update(b"]")
    elif isinstance(obj, Mapping):
        items = sorted(obj.items(), key=lambda kv: repr(kv[0]))
        h.update(f"m{len(items)}{{".encode())
        for k, v in items:
            _feed(h, k)
            _feed(h, v)
        h.update(b"}")
    else:
        raise TypeError(f"{type(obj).__name__} has no cache key")


def figure_key(name: str, inputs: Any) -> str | None:
    """Return the cache key of a figure, or None when an input cannot be hashed (then no caching).

    Parameters
    ----------
    name : str
        The figure (e.g. ``"brain.score_map_slices"``): figures with the same inputs differ by name.
    inputs : nested lists/tuples/mappings of arrays, numbers, strings, None
        Every argument of the drawing function.
    """
    h = hashlib.sha256(f"tmstarget report figure {CACHE_FORMAT}\n{code_digest()}\n".encode())
    try:
        _feed(h, name)
        _feed(h, inputs)
    except TypeError as exc:
        logger.debug("report figure %r not cached (%s)", name, exc)
        return None
    return h.hexdigest()


def _checksum(payload: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def read_entry(key: str) -> dict[str, str] | None:
    """Return the cached payload of ``key``, or None when it is absent, unreadable or corrupt."""
    try:
        entry = json.loads((figures_dir() / f"{key}.json").read_text(encoding="utf-8"))
        payload = entry["payload"]
        ok = (
            entry.get("format") == CACHE_FORMAT
            and entry.get("key") == key
            and isinstance(payload, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in payload.items())
            and entry.get("sha256") == _checksum(payload)
        )
    except Exception:  # noqa: BLE001 - any unreadable entry is drawn anew
        return None
    if not ok:
        logger.debug("report figure cache entry %s is corrupt: drawing anew", key)
        return None
    try:
        os.utime(figures_dir() / f"{key}.json")  # recently used: pruned last
    except OSError:
        pass
    return payload


def max_cache_mb() -> float:
    """Return the figure folder's size cap (MB): ``$TMSTARGET_FIGURE_CACHE_MB`` or the default.

    A value that is not a number >= 0 is ignored with a warning (the cache never fails a report).
    """
    text = os.environ.get("TMSTARGET_FIGURE_CACHE_MB")
    if text is None:
        return DEFAULT_MAX_MB
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value >= 0):
        logger.warning(
            "TMSTARGET_FIGURE_CACHE_MB=%r is not a number of megabytes >= 0; using %g",
            text,
            DEFAULT_MAX_MB,
        )
        return DEFAULT_MAX_MB
    return value


def prune(max_mb: float | None = None) -> int:
    """Remove the least recently used figure entries until the folder is within ``max_mb``.

    Parameters
    ----------
    max_mb : float, optional
        Size cap in MB; default :func:`max_cache_mb`.

    Returns
    -------
    int
        Number of entries removed. Failures only log.
    """
    cap = (max_cache_mb() if max_mb is None else float(max_mb)) * 1e6
    try:
        entries = []
        for path in figures_dir().glob("*.json"):
            st = path.stat()
            entries.append((st.st_mtime, path.name, st.st_size, path))
    except OSError as exc:
        logger.debug("cannot list the figure cache: %s", exc)
        return 0
    total, removed = sum(e[2] for e in entries), 0
    for _, _, size, path in sorted(entries):  # oldest first
        if total <= cap:
            break
        try:
            path.unlink()
        except OSError as exc:
            logger.debug("cannot remove %s: %s", path, exc)
            continue
        total -= size
        removed += 1
    if removed:
        logger.info("report figure cache: %d least recently used entries removed", removed)
    return removed


_pruned = False


def write_entry(key: str, payload: Mapping[str, str]) -> None:
    """Store ``payload`` under ``key`` atomically; a failure only logs."""
    entry = {"format": CACHE_FORMAT, "key": key, "payload": dict(payload)}
    entry["sha256"] = _checksum(entry["payload"])
    _write_atomic(figures_dir() / f"{key}.json", json.dumps(entry).encode("utf-8"))
    global _pruned
    if not _pruned:  # once per process: keep the folder under its cap
        _pruned = True
        prune()


def cached_uri(name: str, inputs: Any, draw: Callable[[], str]) -> Callable[[], str]:
    """Wrap a figure function returning a ``data:`` URI so that it draws only on a cache miss.

    Parameters
    ----------
    name : str
        The figure's name (part of the key).
    inputs
        Every input of ``draw`` (see :func:`figure_key`).
    draw : callable
        Draws the figure; its URI is stored as returned.

    Returns
    -------
    callable
        Returns the same text as ``draw`` (for :func:`tmstarget.report._mpl.safe_figure`).
    """

    def run() -> str:
        key = figure_key(name, inputs)
        hit = read_entry(key) if key else None
        if hit is not None and set(hit) == {"uri"}:
            return hit["uri"]
        uri = draw()
        if key and isinstance(uri, str):
            write_entry(key, {"uri": uri})
        return uri

    return run


def cached_alt(name: str, inputs: Any, make: Callable[[], Any]) -> Callable[[], Any]:
    """As :func:`cached_uri`, for a function returning an ``AltFigure`` (image, alt, caption).

    The image (SVG text or PNG bytes), alt text and caption are stored and given back unchanged.
    """

    def run():
        from .._utils.figures import AltFigure

        key = figure_key(name, inputs)
        hit = read_entry(key) if key else None
        if hit is not None and set(hit) in ({"svg", "alt", "caption"}, {"png", "alt", "caption"}):
            try:
                image = hit["svg"] if "svg" in hit else base64.b64decode(hit["png"], validate=True)
            except ValueError:
                image = None
            if image is not None:
                return AltFigure(image, hit["alt"], hit["caption"])
        fig = make()
        if key and isinstance(fig.alt, str) and isinstance(fig.caption, str):
            body = (
                {"svg": fig.image}
                if isinstance(fig.image, str)
                else {"png": base64.b64encode(bytes(fig.image)).decode("ascii")}
            )
            write_entry(key, {**body, "alt": fig.alt, "caption": fig.caption})
        return fig

    return run


def _templates_dir() -> Path:
    from .._utils.cache import cache_dir

    return cache_dir() / "templates"


def template_json(name: str, inputs: Any, compute: Callable[[], Any]) -> Any:
    """Return ``compute()``, kept as JSON in ``$TMSTARGET_DATA/templates`` (patient-independent).

    For results on the template head that every report needs (e.g. the scalp-rule targets):
    keyed as figures are (:func:`figure_key`); Python floats survive the JSON round trip exactly.
    A corrupt entry is recomputed; a failed write only logs.
    """
    key = figure_key(name, inputs)
    path = _templates_dir() / f"report-{name}-{key[:24]}.json" if key else None
    if path is not None:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry.get("key") == key and entry.get("sha256") == _checksum(
                {"value": json.dumps(entry["value"], sort_keys=True)}
            ):
                return entry["value"]
        except Exception:  # noqa: BLE001 - any unreadable entry is computed anew
            pass
    value = compute()
    if path is not None:
        text = json.dumps(value, sort_keys=True)
        entry = {"key": key, "value": value, "sha256": _checksum({"value": text})}
        _write_atomic(path, json.dumps(entry).encode("utf-8"))
    return value


def template_array(name: str, inputs: Any, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """Return ``compute()``, kept as ``.npy`` in ``$TMSTARGET_DATA/templates`` (read-only result).

    For template-derived arrays (e.g. the grey-matter lattice of the E-field figure), keyed as
    :func:`template_json`; an unreadable entry is recomputed, a failed write only logs.
    """
    import io

    key = figure_key(name, inputs)
    path = _templates_dir() / f"report-{name}-{key[:24]}.npy" if key else None
    if path is not None:
        try:
            arr = np.load(path, allow_pickle=False)
            arr.setflags(write=False)
            return arr
        except Exception:  # noqa: BLE001 - any unreadable entry is computed anew
            pass
    arr = np.asarray(compute())
    if path is not None:
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        _write_atomic(path, buf.getvalue())
    return arr


def _write_atomic(path: Path, data: bytes) -> None:
    import tempfile

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:24]}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        logger.info("report cache not written (%s: %s)", type(exc).__name__, exc)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def read_motion_cached(path: Path) -> list:
    """:func:`tmstarget.io.derivatives.read_motion`, kept in the figure cache by the file's bytes.

    Parsing the table needs pandas (a quarter of a second to import); a report rebuilt from the
    same outputs reads the runs back instead (floats exactly, via JSON). A table that cannot be
    read raises as :func:`~tmstarget.io.derivatives.read_motion` does and is not cached.
    """
    from ..io.derivatives import MotionRun, read_motion

    data = Path(path).read_bytes()
    key = figure_key("read_motion", hashlib.sha256(data).hexdigest())
    hit = read_entry(key) if key else None
    if hit is not None and set(hit) == {"json"}:
        try:
            return [
                MotionRun(
                    str(name),
                    np.asarray(fd, dtype=float).reshape(-1),
                    np.asarray(cens, dtype=bool).reshape(-1),
                )
                for name, fd, cens in json.loads(hit["json"])
            ]
        except (ValueError, TypeError):
            pass
    runs = read_motion(Path(path))
    if key:
        rows = [[r.name, [float(v) for v in r.fd_mm], [bool(v) for v in r.censored]] for r in runs]
        write_entry(key, {"json": json.dumps(rows)})
    return runs
