"""The on-disk cache of report figures (issue 28): keys, corrupt entries, byte-identical reports."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from test_report import make_report_outputs
from tmstarget._utils.figures import AltFigure
from tmstarget.report import figcache, write_participant_report
from tmstarget.report.figcache import (
    cached_alt,
    cached_uri,
    figure_key,
    figures_dir,
    read_entry,
    template_array,
    template_json,
)


@pytest.fixture(scope="module")
def out_dir(sim_dataset, tmp_path_factory) -> Path:
    return make_report_outputs(sim_dataset[0], tmp_path_factory.mktemp("figcache") / "out")


@pytest.fixture
def data_cache(tmp_path, monkeypatch) -> Path:
    """Give the test an empty data cache."""
    monkeypatch.setenv("TMSTARGET_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def test_key_follows_every_input_and_nothing_else():
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    base = figure_key("f", (arr, [1.0, 2.0, None], {"b": 1, "a": "x"}))
    assert len(base) == 64
    assert figure_key("f", (arr.copy(), [1.0, 2.0, None], {"a": "x", "b": 1})) == base
    changed = arr.copy()
    changed[2, 3] += 1e-3
    variants = [
        figure_key("g", (arr, [1.0, 2.0, None], {"b": 1, "a": "x"})),  # other figure
        figure_key("f", (changed, [1.0, 2.0, None], {"b": 1, "a": "x"})),  # one value
        figure_key("f", (arr.astype(np.float64), [1.0, 2.0, None], {"b": 1, "a": "x"})),  # dtype
        figure_key("f", (arr.reshape(4, 3), [1.0, 2.0, None], {"b": 1, "a": "x"})),  # shape
        figure_key("f", (arr, [1.0, 2.0000001, None], {"b": 1, "a": "x"})),  # a float
        figure_key("f", (arr, [1.0, 2.0, 0.0], {"b": 1, "a": "x"})),  # None against 0
        figure_key("f", (arr, [1.0, 2.0, None], {"b": 1, "a": "y"})),  # a string
        figure_key("f", (arr, [[1.0, 2.0], None], {"b": 1, "a": "x"})),  # nesting
    ]
    assert len({base, *variants}) == len(variants) + 1
    assert figure_key("f", (object(),)) is None  # unhashable input: no caching


def test_uri_is_drawn_once_then_read(data_cache):
    calls = []

    def draw() -> str:
        calls.append(1)
        return "data:image/png;base64,QUJD"

    first = cached_uri("t", (np.ones(3), 2.5), draw)()
    second = cached_uri("t", (np.ones(3), 2.5), draw)()
    third = cached_uri("t", (np.ones(3), 2.6), draw)()
    assert first == second == third == "data:image/png;base64,QUJD"
    assert len(calls) == 2  # the third has another input
    assert len(list(figures_dir().glob("*.json"))) == 2


@pytest.mark.parametrize("image", ["<svg>ü</svg>", b"\x89PNG\r\n\x00\xff"])
def test_alt_figure_round_trips_exactly(data_cache, image):
    fig = AltFigure(image, "alt – ≤ 5", "caption")
    calls = []

    def make():
        calls.append(1)
        return fig

    assert cached_alt("a", ("x",), make)() == fig
    again = cached_alt("a", ("x",), make)()
    assert again == fig and type(again.image) is type(image)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # truncated
        lambda p: p.write_text("{not json"),
        lambda p: p.write_bytes(b"\x00\xff" * 10),
        lambda p: p.write_text(
            json.dumps(json.loads(p.read_text()) | {"payload": {"uri": "data:tampered"}})
        ),  # checksum no longer matches
        lambda p: p.write_text("[]"),
        lambda p: p.unlink() or p.mkdir(),  # a folder where the file was
    ],
)
def test_corrupt_entry_is_drawn_anew(data_cache, damage, caplog):
    draw = lambda: "data:image/svg+xml;base64,PHN2Zz4="  # noqa: E731
    cached_uri("c", (1,), draw)()
    (entry,) = figures_dir().glob("*.json")
    damage(entry)
    with caplog.at_level(logging.DEBUG, logger="tmstarget.report"):
        assert cached_uri("c", (1,), draw)() == draw()
    if entry.is_file():  # rewritten, valid again
        assert read_entry(entry.stem) == {"uri": draw()}


def test_unwritable_cache_only_logs(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("TMSTARGET_DATA", str(blocker))  # a file: no folder can be made under it
    with caplog.at_level(logging.INFO, logger="tmstarget.report"):
        assert cached_uri("u", (1,), lambda: "data:x")() == "data:x"
    assert "not written" in caplog.text


def test_template_caches_recompute_corrupt_entries(data_cache):
    calls = []

    def lattice() -> np.ndarray:
        calls.append(1)
        return np.arange(6, dtype=float).reshape(2, 3) / 7.0

    first = template_array("lat", 4.0, lattice)
    assert np.array_equal(template_array("lat", 4.0, lattice), first) and len(calls) == 1
    (path,) = (data_cache / "templates").glob("report-lat-*.npy")
    path.write_bytes(path.read_bytes()[:70])
    assert np.array_equal(template_array("lat", 4.0, lattice), first) and len(calls) == 2

    rules = lambda: [["f3", "F3", [0.1, 1 / 3, -2.5], 12.345678901234567]]  # noqa: E731
    assert template_json("rules", None, rules) == rules()
    (path,) = (data_cache / "templates").glob("report-rules-*.json")
    assert template_json("rules", None, lambda: 1 / 0) == rules()  # read back, floats exact
    path.write_text(path.read_text().replace("12.34", "99.34"))  # checksum fails
    assert template_json("rules", None, rules) == rules()


def test_report_is_byte_identical_from_cache_or_drawn(
    out_dir, tmp_path, data_cache, monkeypatch, caplog
):
    from tmstarget.report import brain, coil_figures, plots

    out = tmp_path / "out"
    shutil.copytree(out_dir / "sub-02", out / "sub-02")
    report = lambda: write_participant_report(out, "02", session="2").read_bytes()  # noqa: E731
    drawn = report()
    entries = sorted(figures_dir().glob("*.json"))
    # slices, glass, FD, tSNR, scan-length curve, and the coil on the head and its E-field (the
    # default placement: no coil plan was given); and the parsed motion table
    assert len(entries) == 8

    def broken(*args, **kwargs):
        raise AssertionError("drawn although cached")

    for mod, names in (
        (brain, ["score_map_slices", "score_map_glass", "tsnr_slices", "region_glass"]),
        (plots, ["fd_trace", "scan_length_curve"]),
        (coil_figures, ["coil_on_head_figure", "efield_figure"]),
    ):
        for name in names:
            monkeypatch.setattr(mod, name, broken)
    assert report() == drawn
    assert "could not be drawn" not in caplog.text

    for i, entry in enumerate(entries):  # every entry damaged in another way
        entry.write_bytes(entry.read_bytes()[: 40 * i])
    monkeypatch.undo()
    monkeypatch.setenv("TMSTARGET_DATA", str(data_cache))
    assert report() == drawn
    assert all(read_entry(e.stem) is not None for e in entries)
    shutil.rmtree(figures_dir())
    assert report() == drawn  # drawn again from nothing
    assert figcache.code_digest() == figcache.code_digest()


def test_motion_table_read_back_exactly(data_cache, tmp_path, monkeypatch):
    import tmstarget.io.derivatives as derivatives
    from tmstarget.report.figcache import read_motion_cached

    table = tmp_path / "motion.tsv"
    table.write_text(
        "run\tvolume\tframewise_displacement\tcensored\n"
        "a\t1\t0.1234567891234\t0\na\t0\tn/a\t1\nb\t0\t0.3\t0\nb\t1\t1e-17\t1\n"
    )
    parsed = derivatives.read_motion(table)
    first = read_motion_cached(table)

    def broken(path):
        raise AssertionError("parsed although cached")

    monkeypatch.setattr(derivatives, "read_motion", broken)
    again = read_motion_cached(table)
    for runs in (first, again):
        assert [r.name for r in runs] == ["a", "b"]
        for r, p in zip(runs, parsed):
            assert np.array_equal(r.fd_mm, p.fd_mm) and r.fd_mm.dtype == np.float64
            assert np.array_equal(r.censored, p.censored) and r.censored.dtype == bool
    assert again[0].fd_mm.tolist() == [0.0, 0.1234567891234]
    table.write_text(table.read_text().replace("0.3", "0.4"))  # other bytes: parsed again
    with pytest.raises(AssertionError, match="parsed although cached"):
        read_motion_cached(table)
    monkeypatch.undo()
    monkeypatch.setenv("TMSTARGET_DATA", str(data_cache))
    bad = tmp_path / "bad.tsv"
    bad.write_text("not a table\n")
    with pytest.raises(ValueError, match="expected"):
        read_motion_cached(bad)
    assert len(list(figures_dir().glob("*.json"))) == 1  # the first table only


def _entry(name: str, size: int, mtime: float) -> Path:
    path = figcache.figures_dir() / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (mtime, mtime))
    return path


def test_prune_removes_least_recently_used_entries_beyond_the_cap(data_cache):
    old = [_entry(f"old{i}", 400_000, 1_000_000 + i) for i in range(3)]
    new = [_entry(f"new{i}", 400_000, 2_000_000 + i) for i in range(2)]
    # 5 entries x 0.4 MB = 2.0 MB; a 1.0 MB cap keeps the two most recent
    assert figcache.prune(1.0) == 3
    assert [p.exists() for p in old] == [False, False, False]
    assert [p.exists() for p in new] == [True, True]
    assert figcache.prune(1.0) == 0


def test_a_hit_makes_its_entry_recent(data_cache):
    figcache.write_entry("a" * 64, {"uri": "data:1"})
    path = figcache.figures_dir() / f"{'a' * 64}.json"
    os.utime(path, (1_000_000, 1_000_000))
    _entry("other", 10, 1_500_000)
    assert figcache.read_entry("a" * 64) == {"uri": "data:1"}
    assert path.stat().st_mtime > 1_500_000
    figcache.prune(path.stat().st_size / 1e6)  # room for one: the older "other" goes
    assert path.exists() and not (figcache.figures_dir() / "other.json").exists()


@pytest.mark.parametrize("value", ["lots", "-1", "nan"])
def test_bad_cache_cap_falls_back_to_the_default(monkeypatch, caplog, value):
    monkeypatch.setenv("TMSTARGET_FIGURE_CACHE_MB", value)
    with caplog.at_level(logging.WARNING):
        assert figcache.max_cache_mb() == figcache.DEFAULT_MAX_MB
    assert "TMSTARGET_FIGURE_CACHE_MB" in caplog.text
    monkeypatch.setenv("TMSTARGET_FIGURE_CACHE_MB", "12.5")
    assert figcache.max_cache_mb() == 12.5
