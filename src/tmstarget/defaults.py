"""Choices of the top-level modules in one leaf module (no imports).

They are read by :mod:`tmstarget.scalp`, :mod:`tmstarget.compare` and the command line, whose
``--help`` then imports no numpy.
"""

#: Scalp rules of :mod:`tmstarget.scalp`.
SCALP_RULES = ("beam-f3", "f3", "5cm")
#: How :mod:`tmstarget.compare` weights a map around a point.
WEIGHTINGS = ("sphere", "gaussian")
