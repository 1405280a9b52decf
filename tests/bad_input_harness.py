"""The check every bad-input case makes (issues 16 and 24).

It is shared by the ``test_bad_inputs*.py`` corpora. A case is an argv with ``{placeholders}`` and a
fragment of the expected message. It must end with exit code 2, exactly one line on stderr starting
with ``tmstarget`` (argparse usage errors included), no traceback, nothing on stdout, and no file or
folder created or changed under any of the watched roots.
"""

from __future__ import annotations

from pathlib import Path

from tmstarget.cli.main import main


def listing(*roots: Path) -> dict[str, tuple[int, float]]:
    """Every path under ``roots`` with its size and modification time."""
    found = {}
    for root in roots:
        for p in sorted(Path(root).rglob("*")):
            st = p.lstat()
            found[str(p)] = (st.st_size, st.st_mtime_ns)
    return found


def check_refused(
    argv: list[str],
    fragment: str,
    fmt: dict[str, object],
    roots: list[Path],
    tmp_path: Path,
    capsys,
    monkeypatch,
) -> str:
    """Run ``tmstarget argv`` and assert a clean refusal; return the error line.

    Placeholders in ``argv`` are filled from ``fmt``.
    """
    monkeypatch.chdir(tmp_path)  # a command writing to its default location would write here
    argv = [a.format(**fmt) for a in argv]
    watched = [*roots, tmp_path]
    before = listing(*watched)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err, captured.err
    assert code == 2, captured
    assert captured.out == "", captured.out
    assert len(lines) == 1 and lines[0].startswith("tmstarget"), captured.err
    assert fragment in lines[0], lines[0]
    assert listing(*watched) == before
    return lines[0]
