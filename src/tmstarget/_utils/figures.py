"""Figures drawn on a private matplotlib figure and returned as SVG text or PNG bytes.

No pyplot state is used.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

__all__ = ["FORMATS", "figure_format", "render_figure"]

#: Figure file formats, by file-name extension.
FORMATS = ("svg", "png")


def render_figure(
    draw: Callable[[Any], None],
    size: tuple[float, float] = (6.4, 4.0),
    fmt: str = "svg",
    layout: bool = True,
) -> str | bytes:
    """Draw on a private figure and return it as SVG text or PNG bytes.

    The figure has an Agg canvas and uses no pyplot state.

    Parameters
    ----------
    draw : callable
        Called with the :class:`matplotlib.figure.Figure` to draw on.
    size : (float, float)
        Width and height in inches.
    fmt : {"svg", "png"}
        Output format.
    layout : bool
        Apply ``tight_layout`` after drawing.

    Returns
    -------
    str or bytes
        SVG text, or PNG bytes; identical drawings give identical output (fixed SVG hash salt, no
        date).
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"svg.hashsalt": "tmstarget", "svg.fonttype": "none"}):
        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)  # Agg canvas on this figure only: no pyplot, no global backend switch
        draw(fig)
        if layout:
            fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(
            buf,
            format=fmt,
            dpi=110,
            metadata={"Date": None} if fmt == "svg" else {"Software": None},
        )
    data = buf.getvalue()
    return data.decode("utf-8") if fmt == "svg" else data


def figure_format(path: object, what: str = "--plot") -> str:
    """Return the figure format a file name asks for (``.svg`` or ``.png``).

    Any other name raises :class:`InputError`. Checked before the work starts, so that ``x.png``
    never receives SVG text and ``x.jpg`` is refused at once.
    """
    from pathlib import Path

    from ..exceptions import InputError

    fmt = Path(str(path)).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(
            f"{what} {path}: figures are written as .svg or "
            ".png — name the file e.g. figure.svg or figure.png"
        )
    return fmt
