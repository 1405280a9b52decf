"""Where tmstarget keeps data it fetches or derives once (the convergent circuit map, placement
landscapes).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Data cache: ``$TMSTARGET_DATA`` if set, else ``$XDG_CACHE_HOME/tmstarget`` or
    ``~/.cache/tmstarget``.
    """
    if os.environ.get("TMSTARGET_DATA"):
        return Path(os.environ["TMSTARGET_DATA"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tmstarget"
