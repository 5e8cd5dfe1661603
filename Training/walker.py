"""Grady's random walker in the focus window, batched in PyTorch: the probability map that the
walker-refinement network (train_sim.py --walker-channel) takes as an input channel.

The same problem as Sources/Segmentation/RandomWalker.swift, on the network's S x S window: the
window image (normalised, as the network sees it) scaled to [0, 1] by its minimum and maximum,
edge weights max(exp(-beta (g_i - g_j)^2 / (10 sigma)), 1e-6) over 4-neighbours (sigma the scaled
image's standard deviation), seeds a disk of CLICK_RADIUS at every click (its class) and the
window's border (background). The probability that a walker from each pixel first reaches a
structure seed solves L_U x = -B m; conjugate gradients with a Jacobi preconditioner to a relative
residual of `tolerance`, from zero. An image without a structure click gets zeros. The engine's
solve (RandomWalker.windowProbability) starts from the half-resolution solution and stops at the same
tolerance, so the two agree to about the tolerance (Tests/SegmentationTests/WalkerChannelTests).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from common import CLICK_RADIUS

BETA = 130.0
WEIGHT_FLOOR = 1e-6
TOLERANCE = 1e-3
MAX_ITERATIONS = 2000


def seed_maps(clicks: list[list[tuple[int, int, int]]], size: int) -> tuple[np.ndarray, np.ndarray]:
    """(B, S, S) boolean: the seeded pixels, and those of them seeded as structure (label != 0).
    A later click's disk overwrites an earlier one's where they overlap, as in the engine."""
    seeded = np.zeros((len(clicks), size, size), dtype=bool)
    structure = np.zeros_like(seeded)
    seeded[:, 0, :] = seeded[:, -1, :] = seeded[:, :, 0] = seeded[:, :, -1] = True
    yy, xx = np.mgrid[-CLICK_RADIUS:CLICK_RADIUS + 1, -CLICK_RADIUS:CLICK_RADIUS + 1]
    disk = (xx * xx + yy * yy) <= CLICK_RADIUS * CLICK_RADIUS
    for i, image_clicks in enumerate(clicks):
        for x, y, label in image_clicks:
            for dy, dx in zip(yy[disk], xx[disk]):
                if 0 <= y + dy < size and 0 <= x + dx < size:
                    seeded[i, y + dy, x + dx] = True
                    structure[i, y + dy, x + dx] = label != 0
    return seeded, structure


def edge_weights(images: torch.Tensor, beta: float = BETA) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, S, S - 1) weights of the horizontal edges and (B, S - 1, S) of the vertical ones."""
    low = images.amin((1, 2), keepdim=True)
    span = (images.amax((1, 2), keepdim=True) - low).clamp(min=1e-6)
    scaled = (images - low) / span
    deviation = scaled.std((1, 2), unbiased=False, keepdim=True).clamp(min=1e-6)
    factor = beta / (10 * deviation)
    horizontal = torch.exp(-factor * (scaled[:, :, 1:] - scaled[:, :, :-1]) ** 2).clamp(min=WEIGHT_FLOOR)
    vertical = torch.exp(-factor * (scaled[:, 1:, :] - scaled[:, :-1, :]) ** 2).clamp(min=WEIGHT_FLOOR)
    return horizontal, vertical


def probabilities(images: torch.Tensor, clicks: list[list[tuple[int, int, int]]],
                  tolerance: float = TOLERANCE, max_iterations: int = MAX_ITERATIONS) -> torch.Tensor:
    """(B, 1, S, S) the walker's structure probability for images (B, S, S) (or (B, 1, S, S)) and
    each image's clicks (x, y, label) in window pixels, on the images' device."""
    if images.dim() == 4:
        images = images[:, 0]
    size = images.shape[-1]
    device = images.device
    seeded_np, structure_np = seed_maps(clicks, size)
    has_structure = torch.from_numpy(structure_np.any((1, 2))).to(device)
    seeded = torch.from_numpy(seeded_np).to(device)
    fixed = torch.from_numpy(structure_np).to(device).float()  # the seeds' values: 1 structure, 0 background
    free = (~seeded).float()
    horizontal, vertical = edge_weights(images.float())
    # Each pixel's weights to its left, right, upper and lower neighbours (0 past the window's edge).
    left = F.pad(horizontal, (1, 0))
    right = F.pad(horizontal, (0, 1))
    up = F.pad(vertical, (0, 0, 1, 0))
    down = F.pad(vertical, (0, 0, 0, 1))
    degree = left + right + up + down

    def neighbours(v: torch.Tensor) -> torch.Tensor:
        """The weighted sum of each pixel's neighbours' values."""
        padded = F.pad(v, (1, 1, 1, 1))
        return (left * padded[:, 1:-1, :-2] + right * padded[:, 1:-1, 2:] + up * padded[:, :-2, 1:-1]
                + down * padded[:, 2:, 1:-1])

    def operator(v: torch.Tensor) -> torch.Tensor:  # L_U v on the unseeded pixels (v zero on seeds)
        return free * (degree * v - neighbours(v))

    b = free * neighbours(fixed)
    inverse_degree = free / degree
    x = torch.zeros_like(b)
    r = b.clone()
    z = r * inverse_degree
    p = z.clone()
    rz = (r * z).sum((1, 2))
    norm = b.pow(2).sum((1, 2)).sqrt().clamp(min=1e-12)
    for iteration in range(max_iterations):
        q = operator(p)
        denominator = (p * q).sum((1, 2))
        alpha = torch.where(denominator > 0, rz / denominator.clamp(min=1e-30), torch.zeros_like(rz))
        x = x + alpha[:, None, None] * p
        r = r - alpha[:, None, None] * q
        if iteration % 10 == 9 and bool(((r.pow(2).sum((1, 2)).sqrt()) < tolerance * norm).all()):
            break
        z = r * inverse_degree
        next_rz = (r * z).sum((1, 2))
        ratio = next_rz / rz.clamp(min=1e-30)
        rz = next_rz
        p = z + ratio[:, None, None] * p
    result = torch.where(seeded, fixed, x).clamp(0, 1)
    return (result * has_structure[:, None, None].float())[:, None]
