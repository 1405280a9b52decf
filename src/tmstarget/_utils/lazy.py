"""Lazy package exports (PEP 562): public names are imported from their module on first use.

Importing a package — e.g. for ``tmstarget COMMAND --help`` — thus stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: str, namespace: dict, exports: dict[str, str]) -> Callable[[str], object]:
    """Return a module ``__getattr__`` serving ``exports`` of ``package``.

    ``exports`` maps each public name to its submodule, e.g. ``".selection"``.
    """

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        namespace[name] = value  # cache: later look-ups do not come here
        return value

    return __getattr__
