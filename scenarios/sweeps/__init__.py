"""Studies: a scenario swept over a grid (or a design table) × replications on common random
numbers, run serially, on local processes or on a Dask cluster with identical results
(``dxsim sweep STUDY.toml``).

- :mod:`scenarios.sweeps.study`: the study file, its variants and seeds;
- :mod:`scenarios.sweeps.execute`: one pure task per replication and the three backends;
- :mod:`scenarios.sweeps.tables`: the tidy results and the summary (means, CIs, paired
  differences to the base);
- :mod:`scenarios.sweeps.sweep`: the output directory and resuming a study.
"""

from __future__ import annotations

from scenarios.sweeps.study import Study, StudyError, load_study
from scenarios.sweeps.sweep import SweepOutcome, run_study

__all__ = ["Study", "StudyError", "SweepOutcome", "load_study", "run_study"]
