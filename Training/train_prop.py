"""Trains the propagation network (VMN-style memory network with a quality head).

Each sample is a run of consecutive slices through one class's structure, in a random direction,
starting on a slice that contains it. The first slice enters the memory with its true mask (the
radiologist's corrected slice); every later slice is predicted from the memory and then added to it
with its own predicted mask (as VMN propagates). Loss per predicted slice: binary cross entropy plus
soft Dice on the mask, plus the L2 error of the quality head against the mask's true IoU.

usage: train_prop.py --data DIR --minutes M --out checkpoints/prop.pt [--threads 1]
"""
from __future__ import annotations

import random

import numpy as np
import torch
import torch.nn.functional as F

from common import load_volumes
from models import PropNet
import training_run

CLASSES = 6


def sample_sequence(volumes, length: int, rng: random.Random):
    """(length, 1, H, W) images and (length, 1, H, W) masks of one class, consecutive slices."""
    while True:
        volume = rng.choice(volumes)
        label = rng.randrange(1, CLASSES)
        present = np.flatnonzero((volume.labels == label).any(axis=(1, 2)))
        if present.size == 0:
            continue
        start = int(rng.choice(present))
        direction = rng.choice([-1, 1])
        indices = [start + direction * t for t in range(length)]
        if min(indices) < 0 or max(indices) >= volume.labels.shape[0]:
            continue
        images = volume.image[indices]
        masks = (volume.labels[indices] == label).astype(np.float32)
        if rng.random() < 0.5:
            images, masks = images[:, :, ::-1], masks[:, :, ::-1]
        if rng.random() < 0.5:
            images, masks = images[:, ::-1, :], masks[:, ::-1, :]
        unit = np.clip((images + 1) / 2, 0, 1) ** np.exp(rng.uniform(-0.3, 0.3))
        images = unit * 2 - 1 + rng.uniform(-0.1, 0.1)
        return (torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))[:, None],
                torch.from_numpy(np.ascontiguousarray(masks))[:, None])


def iou(probabilities: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    predicted = probabilities > 0.5
    truth = masks > 0.5
    union = (predicted | truth).flatten(1).sum(1)
    intersection = (predicted & truth).flatten(1).sum(1)
    return torch.where(union > 0, intersection / union.clamp(min=1), torch.ones_like(union, dtype=torch.float32))


def sequence_loss(net: PropNet, images: torch.Tensor, masks: torch.Tensor):
    """images, masks: (B, L, 1, H, W). Returns the mean mask loss and quality loss over steps 1..L-1."""
    length = images.shape[1]
    f1, f2, key, _ = net.encode_key(images[:, 0])
    keys = [key]
    values = [net.encode_value(images[:, 0], masks[:, 0])]
    mask_loss = quality_loss = 0
    for t in range(1, length):
        f1, f2, key, query_value = net.encode_key(images[:, t])
        read = net.read(key, torch.stack(keys, 1), torch.stack(values, 1))
        logits, quality = net.decode(f1, f2, query_value, read)
        probabilities = torch.sigmoid(logits)
        target = masks[:, t]
        soft_dice = 1 - (2 * (probabilities * target).flatten(1).sum(1) + 1) / (
            (probabilities + target).flatten(1).sum(1) + 1)
        mask_loss = mask_loss + F.binary_cross_entropy_with_logits(logits, target) + soft_dice.mean()
        quality_loss = quality_loss + F.mse_loss(quality, iou(probabilities.detach(), target))
        keys.append(key)
        values.append(net.encode_value(images[:, t], probabilities.detach()))
    return mask_loss / (length - 1), quality_loss / (length - 1)


def main() -> int:
    parser = training_run.parser(batch=4, lr=1e-3, seed=11)
    parser.add_argument("--length", type=int, default=5)
    args = parser.parse_args()
    run = training_run.TrainingRun(args, PropNet())
    volumes = load_volumes(args.data)
    print(f"{len(volumes)} training volumes", flush=True)

    def step(rng):
        sequences = [sample_sequence(volumes, args.length, rng) for _ in range(args.batch)]
        return list(sequence_loss(run.net, torch.stack([s[0] for s in sequences]), torch.stack([s[1] for s in sequences])))

    run.loop(step, ["mask", "quality"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
