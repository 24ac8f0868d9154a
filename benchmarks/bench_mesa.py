"""Agent-steps per second: Mesa's tutorial model against ours, on this machine, in one run.

Mesa's introductory tutorial model (Boltzmann wealth: every agent with wealth
gives one unit to another agent drawn at random), written idiomatically with
one Python `mesa.Agent` per agent and `model.agents.shuffle_do("step")`, at
the row count of our default scale (646,800 agents: Zhejiang's 64.68 million
residents at 100 persons per row).  Then our model at the same scale, all
ten processes, 2021-2025.  Prints both rates and their ratio; asserts nothing.

    python benchmarks/bench_mesa.py [--agents 646800] [--steps 3]
"""

import argparse
import time

import mesa

from sim.model import LabourModel
from sim.status import Status


class MoneyAgent(mesa.Agent):
    """The tutorial's agent: starts with one unit of wealth."""

    def __init__(self, model):
        super().__init__(model)
        self.wealth = 1

    def step(self):
        if self.wealth > 0:
            other = self.random.choice(self.model.agent_list)
            other.wealth += 1
            self.wealth -= 1


class MoneyModel(mesa.Model):
    def __init__(self, n: int, seed: int = 1):
        super().__init__(rng=seed)
        MoneyAgent.create_agents(self, n)
        self.agent_list = list(self.agents)  # the tutorial draws the partner from the agent set

    def step(self):
        self.agents.shuffle_do("step")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=646_800)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--scale", type=float, default=100.0)
    args = parser.parse_args()

    boltzmann = MoneyModel(args.agents)
    start = time.perf_counter()
    for _ in range(args.steps):
        boltzmann.step()
    mesa_rate = args.agents * args.steps / (time.perf_counter() - start)

    model = LabourModel(seed=1, scale=args.scale)
    model.step()  # the first month loads the compiled kernels; time the rest
    rows_stepped, start = 0, time.perf_counter()
    for _ in range(59):
        model.step()
        rows_stepped += int((model.people.status != Status.ABSENT).sum())
    our_rate = rows_stepped / (time.perf_counter() - start)

    print(f"Mesa Boltzmann wealth, {args.agents:,} agents, shuffle_do: {mesa_rate:14,.0f} agent-steps/s")
    print(f"zjsim, scale {args.scale:g} ({model.people.n:,} rows), 10 processes: {our_rate:14,.0f} agent-steps/s")
    print(f"ratio                                                {our_rate / mesa_rate:14.1f} x")


if __name__ == "__main__":
    main()
