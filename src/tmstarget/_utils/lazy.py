"""Lazy package exports (PEP 562): a package's public names are imported from their module on first
use, so importing the package — e.g. for ``tmstarget COMMAND --help`` — stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, namespace: dict, exports: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` serving ``exports`` (public name → submodule, e.g. ``".selection"``)
    of ``package``.
    """

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        namespace[name] = value  # cache: later look-ups do not come here
        return value

    return __getattr__
