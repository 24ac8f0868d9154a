"""zjsim: an agent-based model of Zhejiang's labour market and social insurance.

The model starts from the end-2020 baseline and steps month by month; see
`sim.model.LabourModel` for the step order and `sim.cli` for the command line.
"""

import os

__version__ = "0.1.0"

# The kernels' OpenMP threads (numba's libgomp layer) sleep as soon as a
# parallel pass ends; libgomp's default spins a while first.  Measured on a
# 2-core virtual machine (benchmarks/README.md, sixth round): waking a
# sleeping thread costs 220-340 us a pass, some 22 passes a month, and
# spinning about 4 ms instead (GOMP_SPINCOUNT=30000) made a lone default run
# 10% faster; but two runs at once then took 11.5 s instead of 6.5 s, each
# one's spinning thread holding the core the other needed.  Sleeping is the
# safer default; a lone run may set GOMP_SPINCOUNT, which libgomp lets
# override this policy.  Read by libgomp when numba first starts its
# threads; a value the user sets wins.  A pass too small to repay the
# wake-up runs on the calling thread alone (sim.kernels.sized_pass).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
