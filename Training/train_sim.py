"""Trains the SIM interactive network (or its CIM ablation) with Dynamic Data Generation.

Each batch: slices drawn from the training phantoms (90% with foreground), augmented; k in 0..D
interaction steps are simulated with fixed weights (DDG: the virtual user clicks on the network's own
output, the clicks and outputs fill the memory), then one forward pass with the filled memory is
backpropagated with the focal loss. Time-bounded and resumable: the checkpoint holds the weights,
the optimiser, the step count and the random state.

usage: train_sim.py --data DIR --variant sim|cim --minutes M [--max-steps S] --out checkpoints/sim.pt [--threads 1]
"""
from __future__ import annotations

import random

import numpy as np
import torch

from common import augment, class_weights, ddg_clicks, click_maps, focal_loss, load_volumes, start_episode
from interaction import InteractionMemory
from models import SimNet
import training_run

CLASSES, DEPTH, SIZE = 6, 2, 128
RECALIBRATION_BATCHES = 60  # batches of every memory regime (0..6 DDG steps) for frozen statistics


def make_net(variant: str) -> SimNet:
    return SimNet(CLASSES, DEPTH if variant == "sim" else 0, cumulative=variant == "cim")


def sample_batch(volumes, batch: int, rng: random.Random):
    images, labels = [], []
    while len(images) < batch:
        volume = rng.choice(volumes)
        index = rng.randrange(volume.labels.shape[0])
        if not volume.labels[index].any() and rng.random() < 0.9:
            continue
        image, label = augment(volume.image[index], volume.labels[index], rng)
        images.append(image)
        labels.append(label)
    return torch.from_numpy(np.stack(images))[:, None], np.stack(labels)


def ddg_memory(net, variant, images, labels, rng, max_steps: int, exactly: int | None = None, step_net=None,
               hold_out: float = 0.8):
    """Runs k (0..max_steps) DDG steps with fixed weights and returns the filled memory. With
    max_steps > D the memory rolls over as it does when a radiologist clicks more than D times.
    `step_net(j)`, when given, is the network that runs step j (batch-norm recalibration)."""
    batch = images.shape[0]
    memory = InteractionMemory(batch, CLASSES, DEPTH, SIZE, cumulative=variant == "cim")
    steps = rng.randint(0, max_steps) if exactly is None else exactly
    episodes = [start_episode(labels[i], CLASSES, rng) for i in range(batch)]
    with torch.no_grad():
        for step in range(steps):
            probabilities = torch.softmax(memory.run(step_net(step) if step_net else net, images), 1)
            predictions = probabilities.argmax(1).numpy()
            clicks = torch.from_numpy(np.stack([
                click_maps(ddg_clicks(episodes[i], predictions[i], labels[i], rng, hold_out=hold_out), CLASSES, SIZE)
                for i in range(batch)]))
            memory.push(clicks, probabilities)
    return memory


def main() -> int:
    parser = training_run.parser(batch=8, lr=2e-3, seed=7)
    parser.add_argument("--variant", choices=["sim", "cim"], default="sim")
    parser.add_argument("--ddg-steps", type=int, default=6, help="at most this many DDG steps per batch")
    parser.add_argument("--hold-out", type=float, default=0.8,
                        help="share of the DDG user's clicks left out (the paper's routine: 0.8)")
    args = parser.parse_args()
    run = training_run.TrainingRun(args, make_net(args.variant))
    volumes = load_volumes(args.data)
    weights = class_weights(volumes, CLASSES)
    print(f"{len(volumes)} training volumes, class weights {weights.numpy().round(2)}", flush=True)
    if args.freeze_statistics:
        from recalibrate import recalibrated
        run.freeze_statistics(lambda net: net.load_state_dict(
            recalibrated(net, args.variant, volumes, RECALIBRATION_BATCHES)))

    def step(rng):
        images, labels = sample_batch(volumes, args.batch, rng)
        memory = ddg_memory(run.net, args.variant, images, labels, rng, args.ddg_steps, hold_out=args.hold_out)
        return [focal_loss(memory.run(run.net, images), torch.from_numpy(labels).long(), weights)]

    run.loop(step, ["loss"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
