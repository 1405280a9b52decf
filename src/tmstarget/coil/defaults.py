"""Coil defaults in one leaf module (no imports).

The library and the ``--help`` of ``tmstarget coil``/``target`` read them from here, so the help
shows the values the library uses without importing numpy.
"""

#: Default handle angle from the midline (degrees, towards lateral, handle pointing posterior).
DEFAULT_HANDLE_ANGLE_DEG = 45.0
#: Default coil placement error a plan is averaged over (:mod:`tmstarget.coil.landscape`): scalp
#: position (mm, radius of a disc) and handle rotation (± degrees). Neuronavigated coils stay within
#: a few millimetres and degrees of plan; TANS (Lynch et al.) averages its E-field-weighted score
#: over errors of this order.
PLACEMENT_ERROR_MM = 5.0
PLACEMENT_ERROR_DEG = 10.0
#: Default coil model (a key of :data:`tmstarget.coil.models.PRESETS`).
DEFAULT_COIL = "magventure-cool-b65"
#: Keys of :data:`tmstarget.coil.models.PRESETS` (the ``--coil`` choices; a test keeps the two
#: equal).
COIL_KEYS = ("magstim-d70", "magventure-cool-b65", "magventure-mc-b70")
