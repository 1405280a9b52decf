"""One help text per command-line option shared by several commands (issue 26).

As nilearn's ``_utils/docs.py``: an option that means the same thing in several commands is
described once here, and every command (and the helpers of :mod:`tmstarget.cli._common`) takes its
help from :data:`HELP`. A command that needs more appends to the shared text (``HELP["session"] +
"; ..."``), never rewords it. The formatter (:class:`tmstarget.cli.parser.HelpFormatter`) appends
``(default: X)`` when the option has a default, so a text here states its default only when argparse
cannot (an absent value that means "all", "from the file", ...). Texts pass through argparse's ``%``
formatting: write ``%%`` for a percent sign.

Options that share a name but mean different things keep their own texts; they are listed in
:data:`DIFFERENT_MEANINGS`. ``tests/test_cli_options.py`` checks both against the parser, so a new
command cannot add another wording silently.

Plain string constants only: ``tmstarget --help`` imports this module.
"""

from __future__ import annotations

#: Option name (without ``--``) -> its help text, for options with one meaning in every command.
HELP: dict[str, str] = {
    # ----------------------------------------------------------------- BIDS inputs
    "participant-label": "participant label without 'sub-', e.g. 01",
    "session": "session label without 'ses-' (default: every session)",
    "task": "BIDS task label of the resting-state runs",
    "space": (
        "space of the BOLD (default: the first MNI space found, in the order listed; "
        "fsaverage5: GIFTI pairs, fsLR: CIFTI)"
    ),
    "t-r": "repetition time in seconds (default: from the JSON sidecar or the file header)",
    "surface-mesh": (
        "midthickness meshes (GIFTI, MNI mm) of the CIFTI's cortical vertices, e.g. fsLR 32k"
    ),
    "target-json": "one participant's target JSON, written by 'tmstarget target'",
    "coil-json": "the coil plan: output of 'tmstarget coil --json'",
    # ----------------------------------------------------------------- circuit and selection
    "circuit-label": "circuit label in output names (default: from the circuit name)",
    "method": "how the target is chosen",
    "search-mask": (
        "search region mask on the BOLD grid (default: left DLPFC, BA9+BA46 20 mm spheres, "
        "grey matter)"
    ),
    "neighbourhood-mm": "neighbourhood radius in mm for --method robust",
    "placement-error-mm": (
        "--method efield: coil position error averaged over, in mm (radius on the scalp; 0 = none)"
    ),
    "placement-error-deg": (
        "--method efield: handle rotation error averaged over, in ± degrees (0 = none)"
    ),
    "radius-mm": "sphere radius in mm",
    "weighting": "sphere mean, or Gaussian coil footprint (--radius-mm is then its FWHM)",
    "bootstrap": "number of block-bootstrap resamples",
    # ----------------------------------------------------------------- cleaning
    "confounds-strategy": "confound regressors (24p = 6 motion + derivatives + squares)",
    "gsr": "also regress out the global signal",
    "fd-threshold": "censor volumes with framewise displacement above this, in mm",
    "dvars-threshold": "also censor volumes with standardised DVARS above this (default: none)",
    "high-pass": "band-pass lower edge in Hz",
    "low-pass": "band-pass upper edge in Hz",
    "fwhm": "spatial smoothing FWHM in mm (0 = none)",
    "min-volumes": "minimum number of volumes left after censoring",
    # ----------------------------------------------------------------- running
    "n-workers": "Dask workers of the local cluster (default: one per core; 1 = no Dask)",
    "scheduler": (
        "use an existing Dask cluster (e.g. tcp://host:8786); its workers must see the same paths"
    ),
    "seed": "random seed, a whole number >= 0 (same inputs and seed: same output)",
    # ----------------------------------------------------------------- scalp rules
    "rule": "scalp rule",
    "nasion-inion": "nasion to inion over the vertex, in cm (Beam F3)",
    "tragus-tragus": "left to right tragus over the vertex, in cm (Beam F3)",
    "circumference": "head circumference in cm (Beam F3)",
    "hotspot": "motor hotspot for the 5-cm rule: a 10-10 name or x,y,z in MNI mm",
    "distance-cm": "distance anterior to the hotspot, in cm (5-cm rule)",
    "adjusted": "Beam F3 with Y + 0.35 cm (Mir-Moghtadaei et al. 2015)",
    # ----------------------------------------------------------------- outcomes and trials
    "baseline": "timepoint label of the baseline assessment",
    "endpoint": "endpoint visit, by its label",
    "visit": (
        "follow-up visit NAME:DAY:WINDOW, in days after the last treatment session, "
        "e.g. month1:28:3; repeat for several (replaces the default schedule)"
    ),
    "remission-threshold": (
        "remission = MADRS total at or below this score (some trials use 9 or 12)"
    ),
    "first-session-day": "day of the first treatment session (same clock as the table's 'day')",
    "last-session-day": "day of the last treatment session (same clock as the table's 'day')",
    "session-log": "filled-in session log (the TSV of 'tmstarget protocol --log-template')",
    "effect-size": "Cohen's d of the experimental minus control MADRS reduction",
    "plot": "write a figure to FILE (.svg or .png)",
    "participant": "participant id",
    "key": "allocation key (JSON; keep it secret)",
}

#: Option names that mean different things in different commands; each command keeps its own text.
#: ``"COMMAND --option"`` exempts one command from an option that is otherwise in :data:`HELP`.
DIFFERENT_MEANINGS: tuple[str, ...] = (
    # a circuit map to match (target, reliability, compare, score), to weight the field (coil), or
    # a circuit label of existing targets (report)
    "circuit",
    # protocol: number of treatment days; trial simulate: a flag adding day columns
    "days",
    # protocol: accept what a safety rule refuses; trial randomize: overwrite outputs
    "force",
    # each command prints a different JSON document
    "json",
    # demo: output folder; compare: output folder of the table and figure; score: a TSV file
    "out",
    # simulate: participants to simulate; trial simulate: randomised; trial power: total, split
    "participants",
    # target: a flag writing HTML reports; trial analyze: a file for the summary
    "report",
    # coil: the space of the --target point, not of BOLD data
    "coil --space",
    # mt: a session of the threshold hunt's trials file, not a BIDS session
    "mt --session",
)
