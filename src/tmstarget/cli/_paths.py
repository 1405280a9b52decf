"""Which command-line values are files read and which written, and the checks made before any work.

Every command's path options have a role: read (``IN``), written (``OUT``) or both (``INOUT``, e.g.
a log that is appended to). The role follows from the argparse type
(:func:`~tmstarget.cli._common.output_file` and :func:`~tmstarget.cli._common.output_dir` write,
:func:`~tmstarget.cli._common.input_file` and :class:`~pathlib.Path` read) or, for options whose
value may also be a name (``--circuit sgacc|PATH``) or is kept as text, from :data:`EXTRA_ROLES`.
``tests/test_bad_inputs_outputs.py`` walks every command and fails on a path-like option with no
role, so a new option cannot slip past the check.

:func:`check_path_collisions` then refuses, before the command runs, an output that is one of the
command's inputs or another output of the same run, after resolving symbolic links, ``..`` and hard
links (issue 24), and files that a command writes beside its outputs (:data:`DERIVED_OUTPUTS`) over
an input. Folders are not files: writing into the folder an input lies in is allowed (the commands
that write fixed names check their own folders).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

IN, OUT, INOUT, OWN = "in", "out", "inout", "checked by the command"

#: Roles that the argparse type does not tell, by (command, dest); ``OWN``: the command checks
#: these itself.
EXTRA_ROLES: dict[tuple[str, str], str] = {
    ("circuit build", "fmriprep_dir"): IN,
    ("coil", "circuit"): IN,
    ("compare", "circuit"): IN,
    ("compare", "measurements"): IN,
    ("compare", "target_json"): IN,
    ("compare", "targets"): IN,
    ("madrs", "tsv"): IN,
    ("mt", "trials"): INOUT,  # --interactive appends to it
    ("protocol", "screening"): IN,
    ("protocol", "session_log"): IN,
    ("reliability", "circuit"): IN,
    (
        "reliability",
        "paths",
    ): OWN,  # FMRIPREP_DIR OUT_DIR level: the command refuses OUT_DIR = FMRIPREP_DIR
    ("scale", "tsv"): IN,
    ("score", "circuit"): IN,
    ("score", "coords_file"): IN,
    ("screen", "form"): IN,
    ("target", "circuit"): IN,
    ("target", "paths"): OWN,  # as reliability
    ("trial analyze", "secondary"): IN,  # SCALE=RATINGS.tsv
    ("trial reveal", "log"): INOUT,  # the reveal log is appended to
}

#: Files a command writes beside or inside an output it was given, by command: ``(args) -> [(what,
#: path)]``.
DERIVED_OUTPUTS = {
    "circuit build": lambda a: (
        [("its sidecar", Path(str(a.out).removesuffix(".gz").removesuffix(".nii") + ".json"))]
        if getattr(a, "out", None)
        else []
    ),
    "compare": lambda a: (
        [
            (f"--out {a.out}", Path(a.out) / f"compare.{ext}")
            for ext in ("tsv", "md", "json", a.figure_format)
        ]
        if a.out
        else []
    ),
    "trial reveal": lambda a: (
        []
        if a.log
        else [
            ("the reveal log", Path(a.concealed).with_name(Path(a.concealed).stem + "_reveals.tsv"))
        ]
    ),
}

#: Options whose values are ``NAME=PATH``.
KEY_VALUE = {("trial analyze", "secondary")}


def option_name(action: argparse.Action) -> str:
    """How the user wrote an option: its long flag, or a positional's metavar."""
    if action.option_strings:
        return max(action.option_strings, key=len)
    return action.metavar if isinstance(action.metavar, str) else action.dest.upper()


def chosen_command(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[str, argparse.ArgumentParser]:
    """Return the command the parsed ``args`` belong to, and its parser.

    The command is a name such as ``"coil"`` or ``"trial analyze"``.
    """
    names: list[str] = []
    current = parser
    while True:
        sub = next((a for a in current._actions if isinstance(a, argparse._SubParsersAction)), None)  # noqa: SLF001
        name = getattr(args, sub.dest, None) if sub is not None else None
        if name is None:
            return " ".join(names), current
        names.append(name)
        current = sub.choices[name]


def role(command: str, action: argparse.Action) -> str | None:
    """Return the role of one option of ``command`` (None: not a path)."""
    from ._common import input_file, output_dir, output_file

    if (command, action.dest) in EXTRA_ROLES:
        return EXTRA_ROLES[(command, action.dest)]
    if action.type in (output_file, output_dir):
        return OUT
    if action.type in (input_file, Path):
        return IN
    return None


def _values(value: object, key_value: bool = False) -> Iterator[str]:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, list | tuple):
        for v in value:
            yield from _values(v, key_value)
        return
    text = str(value)
    yield text.split("=", 1)[-1] if key_value else text


def _identity(text: str) -> tuple:
    """Return a path's identity, with links, ``..`` and hard links resolved.

    Two paths name the same file when their identities are equal.
    """
    path = Path(text).expanduser()
    try:
        st = os.stat(path)
    except OSError:
        return ("path", str(path.resolve()))
    return ("inode", st.st_dev, st.st_ino)


def check_path_collisions(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse an output that is one of the inputs or another output of this run (before any work).

    Raises
    ------
    InputError
        naming both options and the path, with the fix.
    """
    from ..exceptions import InputError

    command, chosen = chosen_command(parser, args)
    written: dict[tuple, str] = {}
    read: dict[tuple, str] = {}
    from ._common import output_dir

    for action in chosen._actions:  # noqa: SLF001
        kind = role(command, action)
        if (
            kind in (None, OWN) or action.type is output_dir
        ):  # a folder written into is not a file written over
            continue
        for text in _values(getattr(args, action.dest, None), (command, action.dest) in KEY_VALUE):
            key = _identity(text)
            name = f"{option_name(action)} {text}"
            if kind in (OUT, INOUT):
                if key in written:
                    raise InputError(
                        f"{name} and {written[key]} are the same "
                        "file — give each output its own path"
                    )
                if key in read:
                    raise InputError(
                        f"{name} would overwrite the input {read[key]} "
                        "— write the output to another path"
                    )
                written[key] = name
            if kind == IN and Path(text).expanduser().is_file():
                if key in written:
                    raise InputError(
                        f"{written[key]} would overwrite the input "
                        f"{name} — write the output to another "
                        "path"
                    )
                read[key] = name
    for what, path in DERIVED_OUTPUTS.get(command, lambda a: [])(args):
        key = _identity(str(path))
        if key in read:
            raise InputError(
                f"{what} would write {path} over the input "
                f"{read[key]} — move that input or write elsewhere"
            )
