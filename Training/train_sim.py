"""Trains the SIM interactive network (or its CIM ablation) with Dynamic Data Generation.

Each batch: slices drawn from the training phantoms (90% with foreground), augmented; k in 0..D
interaction steps are simulated with fixed weights (DDG: the virtual user clicks on the network's own
output, the clicks and outputs fill the memory), then one forward pass with the filled memory is
backpropagated with the focal loss. Time-bounded and resumable: the checkpoint holds the weights,
the optimiser, the step count and the random state.

usage: train_sim.py --data DIR --variant sim|cim --minutes M [--max-steps S] --out checkpoints/sim.pt [--threads 1]
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import torch

from common import augment, class_weights, ddg_clicks, click_maps, focal_loss, load_volumes, start_episode
from interaction import InteractionMemory
from models import SimNet

CLASSES, DEPTH, SIZE = 6, 2, 128


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


def ddg_memory(net, variant, images, labels, rng, max_steps: int):
    """Runs k (0..max_steps) DDG steps with fixed weights and returns the filled memory. With
    max_steps > D the memory rolls over as it does when a radiologist clicks more than D times."""
    batch = images.shape[0]
    memory = InteractionMemory(batch, CLASSES, DEPTH, SIZE, cumulative=variant == "cim")
    steps = rng.randint(0, max_steps)
    episodes = [start_episode(labels[i], CLASSES, rng) for i in range(batch)]
    with torch.no_grad():
        for _ in range(steps):
            probabilities = torch.softmax(memory.run(net, images), 1)
            predictions = probabilities.argmax(1).numpy()
            clicks = torch.from_numpy(np.stack([
                click_maps(ddg_clicks(episodes[i], predictions[i], labels[i], rng), CLASSES, SIZE)
                for i in range(batch)]))
            memory.push(clicks, probabilities)
    return memory


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--variant", choices=["sim", "cim"], default="sim")
    parser.add_argument("--minutes", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--max-steps", type=int, default=None, help="stop at this step (a step budget)")
    parser.add_argument("--ddg-steps", type=int, default=6, help="at most this many DDG steps per batch")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    volumes = load_volumes(args.data)
    weights = class_weights(volumes, CLASSES)
    print(f"{len(volumes)} training volumes, class weights {weights.numpy().round(2)}", flush=True)
    net = make_net(args.variant)
    optimiser = torch.optim.Adam(net.parameters(), lr=args.lr)
    step, seconds = 0, 0.0
    if args.out.exists():
        checkpoint = torch.load(args.out, weights_only=False)
        net.load_state_dict(checkpoint["model"])
        optimiser.load_state_dict(checkpoint["optimiser"])
        step, seconds = checkpoint["step"], checkpoint["seconds"]
        rng.setstate(checkpoint["rng"])
        print(f"resumed at step {step}", flush=True)
    start = time.time()
    budget = args.minutes * 60
    losses = []
    while time.time() - start < budget and (args.max_steps is None or step < args.max_steps):
        images, labels = sample_batch(volumes, args.batch, rng)
        net.train()
        memory = ddg_memory(net, args.variant, images, labels, rng, args.ddg_steps)
        logits = memory.run(net, images)
        loss = focal_loss(logits, torch.from_numpy(labels).long(), weights)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        step += 1
        if step % 50 == 0:
            elapsed = seconds + time.time() - start
            print(f"step {step} loss {np.mean(losses):.4f} {elapsed / 60:.1f} min", flush=True)
            losses = []
        if step % 200 == 0:
            save(args.out, net, optimiser, step, seconds + time.time() - start, rng)
    save(args.out, net, optimiser, step, seconds + time.time() - start, rng)
    return 0


def save(path: Path, net, optimiser, step: int, seconds: float, rng: random.Random):
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save({"model": net.state_dict(), "optimiser": optimiser.state_dict(), "step": step,
                "seconds": seconds, "rng": rng.getstate()}, temporary)
    temporary.replace(path)


if __name__ == "__main__":
    raise SystemExit(main())
