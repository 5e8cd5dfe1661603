"""What both training scripts share: the common options, seeding, a time- and step-bounded loop,
logging, and resumable checkpoints (weights, optimiser, step count, elapsed time, random state)."""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import torch


def parser(batch: int, lr: float, seed: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--minutes", type=float, required=True)
    parser.add_argument("--max-steps", type=int, default=None, help="stop at this step (a step budget)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--device", default="cpu", help="where the network trains: cpu, or cuda on a GPU machine")
    parser.add_argument("--final-lr", type=float, default=None,
                        help="decay the learning rate linearly from --lr to this by --max-steps (needs it)")
    parser.add_argument("--freeze-statistics", action="store_true",
                        help="keep batch norm in evaluation mode: fixed statistics, so every memory regime in a "
                             "batch sees the same normalisation (fine-tuning after recalibration)")
    return parser


class TrainingRun:
    """Runs `step_fn(rng) -> tuple of losses` until the time or step budget is spent; resumes from
    and saves to `args.out` (every 200 steps and at the end)."""

    def __init__(self, args, net: torch.nn.Module):
        if args.final_lr is not None and args.max_steps is None:
            raise SystemExit("--final-lr needs --max-steps: the decay ends there")
        torch.set_num_threads(args.threads)
        torch.manual_seed(args.seed)
        self.args = args
        self.device = torch.device(args.device)
        torch.backends.cudnn.benchmark = self.device.type == "cuda"  # one input size throughout
        self.net = net.to(self.device)
        self.rng = random.Random(args.seed)
        self.optimiser = torch.optim.Adam(net.parameters(), lr=args.lr)
        self.step, self.seconds = 0, 0.0
        self.frozen_statistics = False
        self.settings: dict = {}  # what the script records for the export (saved with the checkpoint)
        if args.out.exists():
            checkpoint = torch.load(args.out, weights_only=False, map_location="cpu")
            net.load_state_dict(checkpoint["model"])
            self.optimiser.load_state_dict(checkpoint["optimiser"])
            self.step, self.seconds = checkpoint["step"], checkpoint["seconds"]
            self.rng.setstate(checkpoint["rng"])
            self.frozen_statistics = checkpoint.get("frozen_statistics", False)
            print(f"resumed at step {self.step} with learning rate {args.lr}", flush=True)

    def freeze_statistics(self, recalibrate):
        """From now on batch norm runs with fixed statistics; `recalibrate(net)` first re-estimates them
        once (on a mix of every memory regime) when the checkpoint's statistics are not frozen yet."""
        if not self.frozen_statistics:
            recalibrate(self.net)
            self.frozen_statistics = True
            print(f"batch-norm statistics re-estimated and frozen at step {self.step}", flush=True)

    def train_mode(self):
        self.net.train()
        if self.frozen_statistics:
            for module in self.net.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.eval()

    def learning_rate(self, first_step: int) -> float:
        """--lr, or with --final-lr the linear decay from --lr at this run's first step to it at --max-steps."""
        if self.args.final_lr is None:
            return self.args.lr
        progress = (self.step - first_step) / max(1, self.args.max_steps - first_step)
        return self.args.lr + (self.args.final_lr - self.args.lr) * progress

    def loop(self, step_fn, names: list[str]):
        start = time.time()
        first_step = self.step
        history = []
        while time.time() - start < self.args.minutes * 60 and (
                self.args.max_steps is None or self.step < self.args.max_steps):
            self.train_mode()
            losses = step_fn(self.rng)
            for group in self.optimiser.param_groups:  # a resumed run may also go on at another rate
                group["lr"] = self.learning_rate(first_step)
            self.optimiser.zero_grad()
            sum(losses).backward()
            self.optimiser.step()
            history.append([loss.item() for loss in losses])
            self.step += 1
            if self.step % 50 == 0:
                means = " ".join(f"{n} {v:.4f}" for n, v in zip(names, np.mean(history, axis=0)))
                print(f"step {self.step} {means} {(self.seconds + time.time() - start) / 60:.1f} min", flush=True)
                history = []
            if self.step % 200 == 0:
                self.save(self.seconds + time.time() - start)
        self.save(self.seconds + time.time() - start)

    def save(self, seconds: float):
        path = self.args.out
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        torch.save({"model": self.net.state_dict(), "optimiser": self.optimiser.state_dict(), "step": self.step,
                    "seconds": seconds, "rng": self.rng.getstate(),
                    "frozen_statistics": self.frozen_statistics, **self.settings}, temporary)
        temporary.replace(path)
