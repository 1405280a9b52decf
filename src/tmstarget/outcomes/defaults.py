"""Outcome defaults in one leaf module (no imports), read by the library and by ``--help``.

``--help`` reads them without importing pandas.
"""

#: Remission = MADRS total at or below this score.
DEFAULT_REMISSION_THRESHOLD = 10
#: Keys of :data:`tmstarget.outcomes.scales.SCALES` (the ``--scale`` choices; a test keeps the two
#: equal).
SCALE_KEYS = ("cgi_i", "cgi_s", "cssrs", "hamd17", "qids_sr16")
