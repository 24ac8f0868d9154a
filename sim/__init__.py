"""zjsim: an agent-based model of Zhejiang's labour market and social insurance.

The model starts from the end-2020 baseline and steps month by month; see
`sim.model.LabourModel` for the step order and `sim.cli` for the command line.
"""

import os

__version__ = "0.1.0"

# The kernels' OpenMP threads sleep between parallel passes instead of spinning
# (libgomp's default spins for a while first).  A step alternates short compiled
# passes with Python, and on 2 cores a spinning thread slowed the Python parts:
# the default run's 60 steps took 6.3-7.2 s spinning against 3.3-4.0 s passive,
# the same at scale 10 (benchmarks/README.md).  Read by libgomp when numba
# first starts its threads; a value the user sets wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
