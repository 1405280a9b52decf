"""Where tmstarget keeps data it fetches or derives once.

Such data are the convergent circuit map and placement landscapes.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Return the data cache folder.

    ``$TMSTARGET_DATA`` if set, else ``$XDG_CACHE_HOME/tmstarget`` or ``~/.cache/tmstarget``.
    """
    if os.environ.get("TMSTARGET_DATA"):
        return Path(os.environ["TMSTARGET_DATA"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tmstarget"
