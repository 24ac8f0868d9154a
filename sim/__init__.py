"""zjsim: an agent-based model of Zhejiang's labour market and social insurance.

The model starts from the end-2020 baseline and steps month by month; see
`sim.model.LabourModel` for the step order and `sim.cli` for the command line.
"""

import os

__version__ = "0.1.0"

# The kernels' OpenMP threads (numba's libgomp layer) spin a while after each
# parallel pass before they sleep: GOMP_SPINCOUNT 30000, which libgomp takes
# for 0.3 ms (its estimate: 100000 spins a millisecond) and which took about
# 4 ms on a 2-core virtual machine (a spin cost about 0.15 us there).  A month
# is some two dozen short parallel passes with Python between them; a sleeping
# thread took 70-340 us to wake for each on that machine, so the second thread
# cost more than it gave at scale 100 (benchmarks/README.md, sixth round).
# Long serial stretches (the build, the output) still let the thread sleep, so
# an idle run does not hold a core.  Read by libgomp when numba first starts
# its threads; a wait policy or spin count the user sets wins.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = "30000"
