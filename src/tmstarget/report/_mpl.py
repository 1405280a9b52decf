"""Matplotlib plumbing for report figures: private Agg-canvas figures, deterministic encodings.

Figures are created as :class:`matplotlib.figure.Figure` objects with their own Agg canvas, never
through ``pyplot``'s figure manager, so reports work in a notebook or on a headless server without
switching the global backend and without leaking open figures.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

#: Fixed salt for SVG element ids, so the same figure gives the same bytes.
SVG_HASHSALT = "tmstarget-report"
#: Resolution of raster (PNG) figures.
PNG_DPI = 110


@dataclass(frozen=True)
class ReportFigure:
    """One figure as shown in a report.

    Attributes
    ----------
    uri : str or None
        ``data:`` URI of the image (SVG or PNG, base64); ``None`` when the figure failed.
    alt : str
        Text alternative of the image.
    caption : str
        What the figure shows and how to read it.
    error : str or None
        Why the figure is missing (shown in place of the image).
    """

    uri: str | None
    alt: str
    caption: str = ""
    error: str | None = None


def new_figure(width_in: float, height_in: float):
    """Create a matplotlib Figure with its own Agg canvas.

    No pyplot state is used and the global backend is not changed.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in))
    FigureCanvasAgg(fig)
    return fig


def figure_uri(fig, fmt: str = "svg") -> str:
    """Encode a figure as a ``data:`` URI; the same figure always gives the same text.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (not changed; it holds no pyplot reference, so it is freed with its last
        reference — clearing its artists cost a tenth of a second per brain figure).
    fmt : {"svg", "png"}
        SVG for line plots, PNG for brain images (smaller for raster content).

    Returns
    -------
    str
        ``data:image/svg+xml;base64,...`` or ``data:image/png;base64,...``.
    """
    import matplotlib

    if fmt not in ("svg", "png"):
        raise ValueError(f"figure format {fmt!r} is not svg or png")
    buf = io.BytesIO()
    metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "none"}):
        fig.savefig(buf, format=fmt, dpi=PNG_DPI, metadata=metadata, facecolor=fig.get_facecolor())
    mime = "image/svg+xml" if fmt == "svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def svg_text_uri(svg: str) -> str:
    """Return the ``data:`` URI of SVG text produced elsewhere.

    Such text comes e.g. from :func:`tmstarget.outcomes.trajectory_svg`.
    """
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def safe_figure(name: str, draw: Callable[[], str], alt: str, caption: str = "") -> ReportFigure:
    """Run a figure function; on any error, return a figure carrying the reason, not an image.

    A failed figure never fails a report: the error is logged (traceback at debug level) and the
    report shows a short note where the image would be.

    Parameters
    ----------
    name : str
        Figure name for the log.
    draw : callable
        Returns the figure's ``data:`` URI.
    alt, caption : str
        See :class:`ReportFigure`.
    """
    try:
        return ReportFigure(draw(), alt, caption)
    except Exception as exc:  # noqa: BLE001 - a figure must never take the report down
        reason = f"{type(exc).__name__}: {exc}".strip()
        logger.warning("report figure %r could not be drawn (%s)", name, reason)
        logger.debug("traceback of report figure %r", name, exc_info=True)
        return ReportFigure(None, alt, caption, f"This figure could not be drawn ({reason}).")


def image_uri(image: str | bytes) -> str:
    """Return the ``data:`` URI of a figure function's image: SVG text or PNG bytes."""
    if isinstance(image, str):
        return svg_text_uri(image)
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def safe_alt_figure(
    name: str, make: Callable[[], Any], alt: str, caption: str = ""
) -> ReportFigure:
    """Run a figure function that returns its own alt text and caption (an ``AltFigure``).

    Such functions are :func:`tmstarget.outcomes.trajectory_figure`,
    :func:`tmstarget.protocol.mep_curve_figure` and
    :func:`tmstarget.protocol.session_timeline_figure`: their alt text names the figure's numbers
    (e.g. "MADRS total by assessment for sub-01: 34 at baseline ..."), known only once drawn. As
    :func:`safe_figure`, an error never fails the report.

    Parameters
    ----------
    name : str
        Figure name for the log.
    make : callable
        Returns an :class:`~tmstarget._utils.figures.AltFigure`.
    alt, caption : str
        Used only when the figure could not be drawn.
    """
    drawn: list[Any] = []

    def draw() -> str:
        drawn.append(make())
        return image_uri(drawn[0].image)

    figure = safe_figure(name, draw, alt, caption)
    if figure.uri is None:
        return figure
    return ReportFigure(figure.uri, drawn[0].alt, drawn[0].caption)
