"""zjsim: an agent-based model of Zhejiang's labour market and social insurance.

The model starts from the end-2020 baseline and steps month by month; see
`sim.model.LabourModel` for the step order and `sim.cli` for the command line.
"""

__version__ = "0.1.0"
