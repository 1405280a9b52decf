"""Line and point plots of the reports (matplotlib, SVG): motion, reliability and cohort distances.

Each function takes plain numbers and returns an SVG ``data:`` URI; the same inputs give the same
bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._mpl import figure_uri, new_figure

CENSORED_COLOUR = "#d62728"
LINE_COLOUR = "#1f5f9f"


def fd_trace(
    runs: Sequence[tuple[str, np.ndarray, np.ndarray]], threshold_mm: float | None = None
) -> str:
    """Framewise displacement of every run, end to end, with censored volumes marked.

    Parameters
    ----------
    runs : sequence of (name, fd_mm, censored)
        Per run: a short name, FD per volume (mm, shape (T,)) and the censoring flags (bool, shape
        (T,)).
    threshold_mm : float, optional
        The FD censoring threshold, drawn as a dashed line.

    Returns
    -------
    str
        SVG ``data:`` URI.
    """
    if not runs:
        raise ValueError("no runs to plot")
    fig = new_figure(6.0, 3.0)  # wide enough for two runs, legible when shrunk to a phone
    ax = fig.add_subplot()
    start = 0
    ymax = 0.0
    for k, (name, fd, censored) in enumerate(runs):
        fd = np.asarray(fd, float)
        censored = np.asarray(censored, bool)
        x = start + np.arange(fd.size)
        ax.plot(x, fd, color=LINE_COLOUR, lw=0.9)
        if censored.any():
            ax.vlines(
                x[censored],
                0,
                1,
                transform=ax.get_xaxis_transform(),
                colors=CENSORED_COLOUR,
                alpha=0.25,
                lw=1.2,
            )
            ax.plot(x[censored], fd[censored], "o", color=CENSORED_COLOUR, ms=3)
        if k:
            ax.axvline(start - 0.5, color="0.5", lw=0.8)
        ax.text(
            start + 1,
            1.0,
            name,
            transform=ax.get_xaxis_transform(),
            va="bottom",
            fontsize=9,
            color="0.3",
        )
        ymax = max(ymax, float(np.nanmax(fd)) if fd.size else 0.0)
        start += fd.size
    if threshold_mm is not None:
        ax.axhline(threshold_mm, color="0.2", ls="--", lw=0.8)
        ymax = max(ymax, threshold_mm)
    ax.set_xlim(-0.5, start - 0.5)
    ax.set_ylim(0, 1.08 * ymax if ymax > 0 else 1.0)
    ax.set_xlabel("volume (runs end to end)")
    ax.set_ylabel("FD (mm)")
    fig.tight_layout()
    return figure_uri(fig, "svg")


def scan_length_curve(
    minutes: Sequence[float], distance_mm: Sequence[float], goal_mm: float = 5.0
) -> str:
    """Distance between two held-out windows' targets against the minutes in each window.

    Parameters
    ----------
    minutes, distance_mm : sequence of float
        The curve (same length).
    goal_mm : float
        Reference distance drawn as a dashed line.

    Returns
    -------
    str
        SVG ``data:`` URI.
    """
    x, y = np.asarray(minutes, float), np.asarray(distance_mm, float)
    if x.shape != y.shape or x.size == 0:
        raise ValueError(
            f"scan-length curve needs equal, non-empty lists, got {x.size} and {y.size} values"
        )
    fig = new_figure(5.5, 3.0)
    ax = fig.add_subplot()
    ax.plot(x, y, "o-", color=LINE_COLOUR, ms=4)
    ax.axhline(goal_mm, color="0.3", ls="--", lw=0.8)
    ax.set_xlabel("minutes of data in each window (k)")
    ax.set_ylabel("first vs last k minutes (mm)")
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    return figure_uri(fig, "svg")


def distance_strips(groups: Mapping[str, Sequence[float]], xlabel: str = "distance (mm)") -> str:
    """One row of points per group (e.g. within-person vs between-person distances), with medians.

    Parameters
    ----------
    groups : mapping of label to distances (mm)
        Rows from top to bottom in mapping order; empty groups are shown as empty rows.
    xlabel : str
        Axis label.

    Returns
    -------
    str
        SVG ``data:`` URI.
    """
    if not groups:
        raise ValueError("no distances to plot")
    labels = list(groups)
    fig = new_figure(6.5, 0.9 + 0.55 * len(labels))
    ax = fig.add_subplot()
    for k, label in enumerate(labels):
        d = np.asarray(groups[label], float)
        row = len(labels) - 1 - k
        if d.size:
            jitter = ((np.arange(d.size) * 0.618) % 1.0 - 0.5) * 0.3  # deterministic spread, no RNG
            ax.plot(d, row + jitter, "o", color=LINE_COLOUR, ms=4, alpha=0.75)
            ax.plot([np.median(d)] * 2, [row - 0.3, row + 0.3], color=CENSORED_COLOUR, lw=2)
    ax.set_yticks(range(len(labels)), labels[::-1])
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.set_xlim(left=0)
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    return figure_uri(fig, "svg")


def value_bars(labels: Sequence[str], values: Sequence[float], xlabel: str) -> str:
    """Horizontal bars, one per label (e.g. each participant's confidence radius).

    Returns
    -------
    str
        SVG ``data:`` URI.
    """
    if not labels:
        raise ValueError("no values to plot")
    v = np.asarray(values, float)
    fig = new_figure(6.5, 0.8 + 0.28 * len(labels))
    ax = fig.add_subplot()
    rows = np.arange(len(labels))[::-1]
    ax.barh(rows, np.where(np.isfinite(v), v, 0.0), color=LINE_COLOUR, height=0.6)
    ax.set_yticks(rows, list(labels))
    ax.set_xlabel(xlabel)
    ax.set_xlim(left=0)
    fig.tight_layout()
    return figure_uri(fig, "svg")
