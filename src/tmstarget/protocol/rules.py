"""Safety rules as data: every limit tmstarget checks, with its number, its basis and its source.

Three kinds of basis, stated on every rule and in every check (``basis``):

``consensus``
    A limit published as a safety recommendation: the single-train table of Wassermann 1998 as
    reproduced by Rossi et al. 2009 (kept valid by Rossi et al. 2021), and the inter-train interval
    finding of Chen et al. 1997.
``published protocol``
    The largest dose delivered in a published trial without seizures (the SAINT/SNT day). It is the
    envelope of published experience, not a proven limit.
``tmstarget policy``
    A choice made by this tool where no published limit exists (the theta-burst intensity ceiling,
    the theta-burst pattern, the table's edges). A protocol (or ``--max-pct-rmt``) may make the
    intensity ceiling stricter; raising it above the policy is itself a refusal unless ``--force``.

A rule whose ``action`` is ``refuse`` stops a dose unless ``--force``; ``warn`` only reports.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CHEN_1997",
    "COLE_2020",
    "COLE_2022",
    "ITI_RULE",
    "REFERENCES",
    "RULES",
    "SINGLE_TRAIN_LIMITS_S",
    "SafetyRule",
    "TBS_DEFAULT_MAX_PCT_RMT",
    "TBS_ENVELOPE",
    "table_source",
]

WASSERMANN_1998 = "Wassermann 1998, Electroencephalogr Clin Neurophysiol 108:1-16"
ROSSI_2009 = "Rossi et al. 2009, Clin Neurophysiol 120:2008-2039"
ROSSI_2021 = "Rossi et al. 2021, Clin Neurophysiol 132:269-306"
CHEN_1997 = "Chen et al. 1997, Electroencephalogr Clin Neurophysiol 105:415-421"
COLE_2020 = "Cole et al. 2020, Am J Psychiatry 177:716-726 (SAINT)"
COLE_2022 = "Cole et al. 2022, Am J Psychiatry 179:132-141 (SNT)"
BLUMBERGER_2018 = "Blumberger et al. 2018, Lancet 391:1683-1692 (THREE-D, iTBS at 120% RMT)"
OBERMAN_2011 = "Oberman et al. 2011, J Clin Neurophysiol 28:67-74 (TBS safety review)"
HUANG_2005 = "Huang et al. 2005, Neuron 45:201-206 (3 pulses at 50 Hz, bursts at 5 Hz)"
OREARDON_2007 = (
    "O'Reardon et al. 2007, Biol Psychiatry 62:1208-1216 (10 Hz, 3000 pulses, once a day)"
)

#: Full references of the sources above (titles), for documentation and reports.
REFERENCES: dict[str, str] = {
    WASSERMANN_1998: "Wassermann EM. Risk and safety of repetitive transcranial "
    "magnetic stimulation: report and "
    "suggested guidelines from the International Workshop on the Safety of rTMS, June 5-7, 1996.",
    ROSSI_2009: "Rossi S, Hallett M, Rossini PM, Pascual-Leone A; "
    "Safety of TMS Consensus Group. Safety, ethical "
    "considerations, and application guidelines for the "
    "use of transcranial magnetic stimulation in clinical "
    "practice and research.",
    ROSSI_2021: "Rossi S et al. Safety and recommendations for TMS "
    "use in healthy subjects and patient populations, "
    "with updates on training, ethical and regulatory issues: expert guidelines.",
    CHEN_1997: "Chen R, Gerloff C, Classen J, Wassermann EM, Hallett "
    "M, Cohen LG. Safety of different inter-train "
    "intervals for repetitive transcranial magnetic stimulation "
    "and recommendations for safe ranges of "
    "stimulation parameters.",
    COLE_2020: "Cole EJ et al. Stanford Accelerated Intelligent "
    "Neuromodulation Therapy for treatment-resistant "
    "depression.",
    COLE_2022: "Cole EJ et al. Stanford Neuromodulation Therapy "
    "(SNT): a double-blind randomized controlled trial.",
    BLUMBERGER_2018: "Blumberger DM et al. Effectiveness of theta burst "
    "versus high-frequency repetitive "
    "transcranial magnetic stimulation in patients with depression (THREE-D).",
    OBERMAN_2011: "Oberman L, Edwards D, Eldaief M, Pascual-Leone A. "
    "Safety of theta burst transcranial magnetic "
    "stimulation: a systematic review of the literature.",
    HUANG_2005: "Huang YZ et al. Theta burst stimulation of the human motor cortex.",
    OREARDON_2007: "O'Reardon JP et al. Efficacy and safety of transcranial "
    "magnetic stimulation in the acute "
    "treatment of major depression: a multisite randomized controlled trial.",
}

_TABLE = (
    f"single-train table of {WASSERMANN_1998} as reproduced "
    f"in {ROSSI_2009}, kept valid by {ROSSI_2021}"
)

#: Maximum safe duration (s) of one rTMS train, by frequency (Hz) and intensity (% of motor
#: threshold). Wassermann 1998 table as reproduced in Rossi et al. 2009; values printed there as
#: ">x" (no adverse effect at the longest duration tested) are used as x. Row by row:
#:
#: * 1 Hz: >1800, >1800, >1800, >360, >50 s
#: * 5 Hz: >10 s in every column
#: * 10 Hz: >5, >5, >5, 4.2, 2.9 s
#: * 20 Hz: 2.05, 2.05, 1.6, 1.0, 0.55 s (Chen et al. 1997 found 1.6 s at 110% MT safe at 20 Hz)
#: * 25 Hz: 1.28, 1.28, 0.84, 0.4, 0.24 s
#:
#: The columns are 90, 100, 110, 120 and 130% MT. Earlier tmstarget versions had the 20 and 25 Hz
#: rows shifted one column to the left (the 100-140% values under 90-130%), refusing doses inside
#: the limits.
SINGLE_TRAIN_LIMITS_S: dict[float, dict[float, float]] = {
    1.0: {90: 1800.0, 100: 1800.0, 110: 1800.0, 120: 360.0, 130: 50.0},
    5.0: {90: 10.0, 100: 10.0, 110: 10.0, 120: 10.0, 130: 10.0},
    10.0: {90: 5.0, 100: 5.0, 110: 5.0, 120: 4.2, 130: 2.9},
    20.0: {90: 2.05, 100: 2.05, 110: 1.6, 120: 1.0, 130: 0.55},
    25.0: {90: 1.28, 100: 1.28, 110: 0.84, 120: 0.4, 130: 0.24},
}

#: Default theta-burst intensity ceiling, % of measured RMT (tmstarget policy; see
#: RULES["tbs.intensity"]).
TBS_DEFAULT_MAX_PCT_RMT = 120.0


def table_source(freq_hz: float, pct_mt: float) -> str:
    """Return the citation of one cell of the single-train table."""
    return f"{_TABLE}; row {freq_hz:g} Hz, column {pct_mt:g}% MT"


@dataclass(frozen=True)
class SafetyRule:
    """One rule: what it limits, on what basis, from which source, and what a violation does.

    Attributes
    ----------
    key : str
        Stable identifier (``rtms.train_duration``, ``tbs.pulses_per_day``, ...), used in JSON.
    statement : str
        The rule in words.
    basis : {"consensus", "published protocol", "tmstarget policy"}
        Why the number is what it is (see the module docstring).
    source : str
        Where it comes from (for a policy: what it rests on).
    action : {"refuse", "warn"}
        ``refuse`` stops the dose unless forced; ``warn`` reports only.
    """

    key: str
    statement: str
    basis: str
    source: str
    action: str = "refuse"


_RULE_LIST = (
    SafetyRule(
        "rtms.train_duration",
        "one train may last no longer than the single-train "
        "table allows at its frequency and intensity "
        "(next higher frequency row and intensity column when between them)",
        "consensus",
        _TABLE,
    ),
    SafetyRule(
        "rtms.frequency",
        "conventional rTMS above 25 Hz is outside the single-train table and refused",
        "tmstarget policy",
        f"no limits above 25 Hz in the {_TABLE}",
    ),
    SafetyRule(
        "rtms.intensity",
        "conventional rTMS above 130% MT is outside the columns tmstarget carries and refused",
        "tmstarget policy",
        f"no limits above 130% MT in the columns tmstarget carries (90-130% MT) of the {_TABLE}",
    ),
    SafetyRule(
        "rtms.inter_train_interval",
        "pauses of 1 s or less between trains are unsafe for trains above 100% MT at 20 Hz "
        "(applied to every frequency above 10 Hz, which the table's 20 and 25 Hz rows cover)",
        "consensus",
        f"{CHEN_1997}: 'inter-train intervals of 1 s or "
        "less were unsafe for trains of 20 Hz for 1.6 s "
        "and stimulus intensities higher than 100% of MT' (abstract)",
    ),
    SafetyRule(
        "rtms.inter_train_interval_tested",
        "pauses shorter than 5 s between trains above 100% "
        "MT above 10 Hz are shorter than the shortest tested "
        "safe",
        "consensus",
        f"{CHEN_1997} (ten 1.6 s trains at 20 Hz, 110% MT, safe with 5 s pauses)",
        action="warn",
    ),
    SafetyRule(
        "rtms.pulses_per_session",
        "more pulses in a session than the FDA-cleared "
        "10 Hz protocol is outside published routine practice; "
        "reported, not refused (a 10 Hz number: slow 1 "
        "Hz sessions within the single-train table can "
        "exceed it)",
        "published protocol",
        OREARDON_2007,
        action="warn",
    ),
    SafetyRule(
        "rtms.sessions_per_day",
        "more than one conventional rTMS session a day "
        "is outside the envelope of the published daily "
        "protocol "
        "and leaves the rest between sessions unchecked; "
        "refused unless --force (no consensus limit exists)",
        "published protocol",
        f"{OREARDON_2007}; {ROSSI_2021} (no consensus limit on sessions per day)",
    ),
    SafetyRule(
        "tbs.intensity",
        "theta burst above 120% of measured RMT is refused; "
        "no published TBS safety limit exists. A protocol "
        "or --max-pct-rmt may lower the ceiling; raising "
        "it above 120% is itself refused unless --force",
        "tmstarget policy",
        f"no consensus TBS table exists ({ROSSI_2021}); "
        f"TBS studies reviewed by {OBERMAN_2011} were mostly "
        "at or "
        "below 100% RMT / 80% AMT; the highest intensity "
        f"in a large depression trial is 120% RMT ({BLUMBERGER_2018})",
    ),
    SafetyRule(
        "tbs.pattern",
        "theta burst with more than 3 pulses per burst, "
        "an intra-burst rate above 50 Hz or bursts repeated "
        "faster than 5 Hz (theta) is outside the pattern of published safety data",
        "tmstarget policy",
        f"{HUANG_2005}; the pattern of the studies reviewed by {OBERMAN_2011}",
    ),
    SafetyRule(
        "tbs.pulses_per_session",
        "at most 1800 theta-burst pulses a session",
        "published protocol",
        f"SAINT/SNT session: {COLE_2020}; {COLE_2022}",
    ),
    SafetyRule(
        "tbs.pulses_per_day",
        "at most 18,000 theta-burst pulses a day (10 sessions of 1800)",
        "published protocol",
        f"SAINT/SNT day: {COLE_2020}; {COLE_2022}",
    ),
    SafetyRule(
        "tbs.sessions_per_day",
        "at most 10 theta-burst sessions a day",
        "published protocol",
        f"SAINT/SNT: {COLE_2020}; {COLE_2022}",
    ),
    SafetyRule(
        "tbs.session_gap",
        "at least 50 minutes from the end of one theta-burst "
        "session to the start of the next on the same day",
        "published protocol",
        f"'50-minute intersession interval' ({COLE_2020}; "
        f"{COLE_2022}); read as end-to-start, see docs/protocol.md",
    ),
)

#: Every rule, by key.
RULES: dict[str, SafetyRule] = {r.key: r for r in _RULE_LIST}

#: The inter-train rule's numbers: (frequencies above, intensities above, minimum pause exclusive,
#: tested pause).
ITI_RULE: dict[str, float] = {
    "applies_above_hz": 10.0,
    "applies_above_pct_mt": 100.0,
    "unsafe_at_or_below_s": 1.0,
    "tested_safe_s": 5.0,
}

#: Theta-burst envelope of the published accelerated protocols (SAINT/SNT): rule key -> (limit,
#: unit).
TBS_ENVELOPE: dict[str, tuple[float, str]] = {
    "tbs.pulses_per_session": (1800.0, "pulses"),
    "tbs.pulses_per_day": (18000.0, "pulses"),
    "tbs.sessions_per_day": (10.0, "sessions"),
    "tbs.session_gap": (50.0, "min (end to start)"),
}
