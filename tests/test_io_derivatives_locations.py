"""Every command refuses an unwritable output location in one line, before any work (issue 16).

Two real conditions: a file standing where a folder is expected (any user, root included), and a
folder without write permission — for root, whose writes ignore mode bits, the command runs in a
subprocess without the DAC-override capabilities (util-linux ``setpriv``), as an unprivileged user
would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tmstarget.cli.main import main


def _commands(bad: str, src: str, out_dir: str) -> dict[str, list[str]]:
    """One invocation per subcommand whose output goes under ``bad``.

    The inputs are valid or irrelevant.
    """
    return {
        "simulate": ["simulate", f"{bad}/sim"],
        "target": ["target", src, f"{bad}/out", "participant"],
        "reliability": ["reliability", src, f"{bad}/out", "participant"],
        "circuit build": ["circuit", "build", "sites.tsv", src, f"{bad}/map.nii.gz"],
        "compare": ["compare", "--targets", src, "--measurements", "m.tsv", "--out", f"{bad}/cmp"],
        "score": [
            "score",
            "--circuit",
            "convergent",
            "--coords=-38,44,26",
            "--out",
            f"{bad}/s.tsv",
        ],
        "coil": ["coil", "--target=-40,42,30", "--localite", f"{bad}/a.xml"],
        "madrs": ["madrs", "m.tsv", "--plot", f"{bad}/m.svg"],
        "trial simulate": ["trial", "simulate", f"{bad}/t.tsv"],
        "trial analyze": ["trial", "analyze", "t.tsv", "--report", f"{bad}/r.json"],
        "protocol": [
            "protocol",
            "--protocol",
            "saint",
            "--start",
            "2026-12-07T08:00",
            "--ics",
            f"{bad}/s.ics",
        ],
        "screen": ["screen", "--template", f"{bad}/form.tsv"],
        "demo": ["demo", "--out", f"{bad}/demo"],
        "report": ["report", out_dir, "group"],
    }


@pytest.mark.parametrize("name", list(_commands("x", "s", "o")))
def test_a_file_where_a_folder_is_expected(tmp_path, capsys, name):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    src = tmp_path / "fmriprep"
    (src / "sub-01").mkdir(parents=True)
    argv = _commands(str(blocker), str(src), str(blocker))[name]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse (parse-time checks)
        code = exc.code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and captured.out == "", captured
    assert len(lines) == 1 and str(blocker) in lines[0] and "Traceback" not in captured.err
    assert blocker.read_text() == "a file, not a folder" and sorted(
        p.name for p in tmp_path.iterdir()
    ) == ["blocker", "fmriprep"]


def _unprivileged(argv: list[str]) -> list[str] | None:
    """``argv`` run as a user without write permission overrides, or None.

    None is returned when running as such a user cannot be arranged.
    """
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [
        setpriv,
        "--inh-caps=-dac_override,-dac_read_search",
        "--bounding-set=-dac_override,-dac_read_search",
        *argv,
    ]


@pytest.mark.parametrize("name", ["simulate", "target", "coil", "trial simulate", "report"])
def test_a_read_only_folder_is_one_line_before_any_work(tmp_path, name):
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    src = tmp_path / "fmriprep"
    (src / "sub-01").mkdir(parents=True)
    entry = "import sys; from tmstarget.cli.main import main; sys.exit(main(sys.argv[1:]))"
    argv = _unprivileged(
        [sys.executable, "-c", entry, *_commands(str(read_only), str(src), str(read_only))[name]]
    )
    if argv is None:
        pytest.skip("running as root without setpriv: cannot drop the permission override")
    read_only.chmod(0o555)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    finally:
        read_only.chmod(0o755)
    if "setpriv" in argv[0] and "Operation not permitted" in proc.stderr:
        pytest.skip("setpriv may not drop capabilities here")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    assert len(lines) == 1 and "not writable" in lines[0] and "Traceback" not in proc.stderr
    assert list(read_only.iterdir()) == []


def test_write_files_atomic_changes_nothing_when_one_file_fails(tmp_path):
    """Several computed files: a failure on the second leaves the first as it was.

    This holds even for a file that existed before.
    """
    import pytest

    from tmstarget.io.derivatives import write_files_atomic

    old = tmp_path / "report.tsv"
    old.write_text("the old report\n")
    (tmp_path / "plot.svg").mkdir()  # a folder where the second file should go: os.replace fails
    with pytest.raises(OSError):
        write_files_atomic([(old, "new report\n"), (tmp_path / "plot.svg", b"<svg/>")])
    assert old.read_text() == "the old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "plot.svg",
        "report.tsv",
    ]  # no temporary file left
    (tmp_path / "afile").write_text("")
    with pytest.raises(
        OSError
    ):  # fails while staging: a file stands where the second file's folder should be
        write_files_atomic([(old, "new report\n"), (tmp_path / "afile" / "x.txt", b"x")])
    assert old.read_text() == "the old report\n"
    assert write_files_atomic([(old, "new\n"), (tmp_path / "a" / "b.txt", b"x")]) == [
        old,
        tmp_path / "a" / "b.txt",
    ]
    assert old.read_text() == "new\n" and (tmp_path / "a" / "b.txt").read_bytes() == b"x"
