"""The command line's contract: help, version, one-line usage errors with exit code 2."""

from __future__ import annotations

import pytest

from tmstarget import __version__
from tmstarget.cli.main import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_help_mentions_research_use(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "not a medical device" in capsys.readouterr().out


def test_unknown_command_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "error" in err
