"""zjsim: an agent-based model of Zhejiang's labour market and social insurance.

The model starts from the end-2020 baseline and steps month by month; see
`sim.model.LabourModel` for the step order and `sim.cli` for the command line.
"""

import os

__version__ = "0.1.0"

# The kernels' OpenMP threads (numba's libgomp layer) spin for about a
# millisecond after each parallel pass before they sleep: GOMP_SPINCOUNT
# 100000, by libgomp's own estimate of 100000 spins per millisecond.  A month
# is some two dozen short parallel passes with Python between them; a sleeping
# thread took 70-300 us to wake for each on a 2-core virtual machine, so
# the second thread cost more than it gave at scale 100 (benchmarks/README.md,
# sixth round: the default command 13% faster with the spin).  Long serial
# stretches (the build, the output) still let the thread sleep, so an idle
# run does not hold a core.  Read by libgomp when numba first starts its
# threads; a wait policy or spin count the user sets wins.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = "100000"
