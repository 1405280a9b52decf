"""Figures drawn on a private matplotlib figure and returned as SVG text or PNG bytes.

No pyplot state is used.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = [
    "FORMATS",
    "MIN_FONT_PT",
    "AltFigure",
    "figure_format",
    "render_figure",
    "scalable_svg",
]

#: Figure file formats, by file-name extension.
FORMATS = ("svg", "png")
#: Smallest font size of the figures meant for narrow screens (390 px wide), in points at the
#: figure's natural size.
MIN_FONT_PT = 9.0
_SVG_SIZE = re.compile(r'(<svg\b[^>]*?)\swidth="[^"]*"\s+height="[^"]*"')


class AltFigure(NamedTuple):
    """A figure with the words that go with it.

    Attributes
    ----------
    image : str or bytes
        SVG text or PNG bytes.
    alt : str
        Text alternative: what the figure shows, with its key numbers (for ``<img alt>``).
    caption : str
        How to read it (marks, lines and colours).
    """

    image: str | bytes
    alt: str
    caption: str


def scalable_svg(svg: str) -> str:
    """Return SVG text whose root element scales to the width of its container.

    Matplotlib writes ``width="460.8pt" height="288pt"`` beside the ``viewBox``; these become
    ``width="100%"`` (the height follows from the ``viewBox``'s aspect ratio), so the figure
    shrinks to a 390 px phone screen instead of overflowing it. Only the root element changes.
    """
    return _SVG_SIZE.sub(r'\1 width="100%"', svg, count=1)


def render_figure(
    draw: Callable[[Any], None],
    size: tuple[float, float] = (6.4, 4.0),
    fmt: str = "svg",
    layout: bool = True,
    scalable: bool = False,
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
    scalable : bool
        SVG only: no fixed width, the figure fills its container (see :func:`scalable_svg`).

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
    if fmt != "svg":
        return data
    text = data.decode("utf-8")
    return scalable_svg(text) if scalable else text


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
