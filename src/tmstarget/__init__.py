"""tmstarget: fMRI-guided TMS targeting for depression.

Research use; not a medical device.

Subpackages and modules follow the pipeline:

``io``            fMRIPrep derivatives in, BIDS-derivatives out
``clean``         confound regression, band-pass, censoring (as one linear operator)
``circuits``      the depression circuits (sgACC seed, group maps)
``regions``       search regions (left DLPFC, grey matter)
``connectivity``  seed maps and circuit similarity by linear algebra
``select``        robust target selection over a coil-sized neighbourhood
``workflow``      the participant-level targeting run
``simulate``      synthetic fMRIPrep datasets with planted targets
``cli``           the ``tmstarget`` command
"""

from ._version import __version__
from .exceptions import InputError

NOTICE = "research use; not a medical device"

__all__ = ["InputError", "NOTICE", "__version__"]
