"""Export defaults in one leaf module (no imports).

Brainsight file versions and coordinate-system names, read by :mod:`tmstarget.export.brainsight` and
by ``tmstarget coil --help`` (which then imports no numpy).
"""

#: File format versions written: 12 (Brainsight ≤ 2.5.2 naming) and 14 (Brainsight ≥ 2.5.3,
#: qform/sform named).
VERSIONS = (12, 14)
DEFAULT_VERSION = 12
#: NIfTI qform/sform intent codes → Brainsight's names (NIfTI-1 standard codes 1–5).
INTENTS = {1: "Scanner", 2: "Aligned", 3: "Talairach", 4: "MNI-152", 5: "Other-Template"}
COORDINATE_SYSTEMS = tuple(f"NIfTI:{name}" for name in INTENTS.values())
COORDINATE_SYSTEMS_V14 = tuple(f"NIfTI:{form}:{name}" for form in "QS" for name in INTENTS.values())
#: Used when the image loaded into Brainsight is not known: the name SimNIBS's reader accepts.
DEFAULT_SYSTEM = {12: "NIfTI:Aligned", 14: "NIfTI:Q:Aligned"}
