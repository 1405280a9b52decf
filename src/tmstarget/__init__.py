"""tmstarget: fMRI-guided TMS targeting for depression.

Research use; not a medical device.

Subpackages and modules follow the pipeline (each package imports only the ones before it or beside
it, never in a loop; names are imported on first use, so ``import tmstarget`` and ``tmstarget
--help`` stay fast):

``io``             fMRIPrep derivatives in; BIDS-derivatives out (``io.derivatives``: names,
                   readers, atomic writers)
``surface``        fsaverage/fsLR meshes, grayordinates and surface runs
``targeting``      the targeting core: circuits, search regions, cleaning, components, scores,
                   methods, selection, uncertainty, the participant-level run (``compute_target``)
``headmodel``      the template head: scalp surface, 10-20 positions, projection to cortex
``scalp``          scalp rules: Beam F3, 10-20 F3, the 5-cm rule
``compare``        circuit scores of points; connectivity target versus scalp rule
``coil``           coil placement, E-field, placement optimisation
``export``         neuronavigation files (Localite, Brainsight, CSV/JSON), T1w mapping, export sets
``report``         HTML reports (participant, cohort)
``cohort``         one targeting job per participant, locally or on Dask
``circuit_build``  the group circuit from stimulation sites and outcomes
``protocol``       treatment protocols, dose, safety, schedules, session logs, motor threshold,
                   ``plan_course``
``visits``         follow-up visit schedules and windows (shared by ``outcomes`` and ``trial``)
``outcomes``       MADRS and other scales: validation, response, remission, plots
``trial``          randomisation, blinding, analysis, power, simulation, ``trial.workflow``
``simulate``       synthetic fMRIPrep datasets with planted targets
``cli``            the ``tmstarget`` command (parses, calls the library, prints)
"""

from ._version import __version__
from .exceptions import InputError

NOTICE = "research use; not a medical device"

__all__ = ["InputError", "NOTICE", "__version__"]
