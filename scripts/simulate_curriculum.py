"""The controller against fixed data, with a scripted policy (synrl_hf.online.simulation): figures + a PNG.

    python scripts/simulate_curriculum.py                       # 18 families, 300 steps, about 2 minutes
    python scripts/simulate_curriculum.py --steps 150 --png curriculum_simulation.png

One run per arm on the same policy: the controller (start at level 0, band [0.3, 0.7]) against fixed
round1 data (level 0) and fixed round2 data (level 1); then the band and min_groups swept. Printed:
the share of groups whose 8 rewards are all equal (TRL's frac_reward_zero_std), the share of
per-step family pass rates inside the band, the policy's final mean skill, and the final levels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from synrl_hf.families import FAMILIES  # noqa: E402
from synrl_hf.online.curriculum import DEFAULT_BAND  # noqa: E402
from synrl_hf.online.simulation import ScriptedPolicy, SimulationResult, simulate  # noqa: E402

WARMUP = 20  # steps left out of the averages (the controller starts everyone at level 0)


def summary(name: str, result: SimulationResult, band: tuple[float, float]) -> str:
    skill = np.mean(list(result.skill[-1].values()))
    levels = sorted(result.levels[-1].values())
    return (
        f"  {name:34s} zero-std groups {result.mean_zero_std(WARMUP):6.1%}   pass rate in band {result.share_in_band(band, WARMUP):6.1%}   "
        f"final skill {skill:5.2f}   final levels {levels[0]}..{levels[-1]} (median {levels[len(levels) // 2]})"
    )


def plot(arms: dict[str, SimulationResult], out: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 7), dpi=100)
    FigureCanvasAgg(figure)
    zero_axes, level_axes = figure.subplots(2, 1, sharex=True)
    for name, result in arms.items():
        smooth = np.convolve(result.zero_std, np.ones(10) / 10, mode="valid")
        zero_axes.plot(np.arange(len(smooth)) + 10, smooth, label=name)
        level_axes.plot([np.mean(list(step.values())) for step in result.levels], label=name)
    zero_axes.set_ylabel("groups with all-equal rewards\n(10-step mean)")
    zero_axes.set_ylim(0, 1)
    zero_axes.legend()
    level_axes.set_ylabel("mean level over families")
    level_axes.set_xlabel("GRPO step (64 prompts x 8)")
    figure.tight_layout()
    figure.savefig(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=0.01, help="skill per step when every group is informative")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--png", type=Path, default=None)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    families = list(FAMILIES)
    policy = ScriptedPolicy(
        {f: float(s) for f, s in zip(families, rng.uniform(-0.5, 1.5, len(families)))}, learning_rate=args.learning_rate
    )
    print(
        f"{len(families)} families, {args.steps} steps of 64 prompts x 8 completions, start skill 0.5 +- 1 levels, learning rate {args.learning_rate}"
    )
    arms = {
        "controller, band [0.3, 0.7]": simulate(policy, args.steps, seed=args.seed),
        "fixed round1 data (level 0)": simulate(policy, args.steps, adaptive=False, seed=args.seed),
        "fixed round2 data (level 1)": simulate(policy, args.steps, adaptive=False, start_level=1, seed=args.seed),
    }
    for name, result in arms.items():
        print(summary(name, result, DEFAULT_BAND))
    print("band and min_groups (controller):")
    for band in ((0.2, 0.8), (0.3, 0.7), (0.4, 0.6)):
        for min_groups in (4, 8, 16):
            result = simulate(policy, args.steps, band=band, min_groups=min_groups, seed=args.seed)
            print(summary(f"band [{band[0]}, {band[1]}], min_groups {min_groups}", result, band))
    if args.png:
        plot(arms, args.png)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
