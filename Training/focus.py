"""The focus crop of the class-agnostic network, and the training samples it sees through it.

The network sees a square window of the slice around the structure, resampled to its input size
(nnInteractive's AutoZoom, in 2D), instead of the whole slice shrunk. The geometry is part of the
model contract: Sources/Segmentation/FocusCrop.swift implements the same sampling.

A window is [left, left + side) x [top, top + side) in pixel coordinates (a pixel's centre at
integer + 0.5 after the shift below); output pixel (i, j) of S x S samples the slice at
x = left + (j + 0.5) * side / S - 0.5, y = top + (i + 0.5) * side / S - 0.5, bilinearly, where a
neighbour outside the slice counts as `fill` (-1 for images: air and the background of MR).

Training samples (`FocusSampler`): a structure of a real slice (a Felzenszwalb superpixel or a
union of adjacent ones, or a FreeSurfer structure) or of a phantom, seen through a window drawn
around it as inference draws them: 1.5-3x its box, or smaller than the box (the structure fills
the window and the network must extend it to the edges, as AutoZoom then grows the window).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from common import Volume, augment

MIN_SIDE = 96  # pixels: the window of a first click on an empty slice
MARGIN = 2.5  # the window's side against the box of the structure and its clicks
GROWTH = 1.5  # AutoZoom: the window grows by this when the structure touches its edge
MAX_GROWTHS = 3  # growths per click at most
MAX_UPSAMPLING = 5  # a window is at least S / 5 pixels wide


@dataclass(frozen=True)
class FocusCrop:
    left: float
    top: float
    side: float

    def positions(self, size: int) -> np.ndarray:
        return (np.arange(size) + 0.5) * self.side / size - 0.5

    def sample(self, plane: np.ndarray, size: int, fill: float) -> np.ndarray:
        """(size, size) float32: the window resampled bilinearly; outside the slice counts as `fill`."""
        xs, ys = self.left + self.positions(size), self.top + self.positions(size)
        x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
        fx, fy = (xs - x0).astype(np.float32), (ys - y0).astype(np.float32)
        height, width = plane.shape

        def at(yy, xx):
            inside = ((yy >= 0) & (yy < height))[:, None] & ((xx >= 0) & (xx < width))[None, :]
            values = plane[np.clip(yy, 0, height - 1)][:, np.clip(xx, 0, width - 1)]
            return np.where(inside, values, fill).astype(np.float32)

        top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
        bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
        return top * (1 - fy[:, None]) + bottom * fy[:, None]


def box_of(mask: np.ndarray) -> tuple[float, float, float]:
    """Centre x, y and side (the longer edge) of a mask's bounding box, in pixels."""
    ys, xs = np.nonzero(mask)
    return (xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2, max(np.ptp(xs), np.ptp(ys)) + 1


def shifted_inside(left: float, top: float, side: float, width: int, height: int) -> tuple[float, float]:
    """The window moved to lie inside the slice along each axis it fits in (as inference places it)."""
    if side <= width:
        left = min(max(left, 0), width - side)
    if side <= height:
        top = min(max(top, 0), height - side)
    return left, top


def training_crop(target: np.ndarray, size: int, rng: random.Random) -> FocusCrop:
    """A window around the structure as inference would draw one: mostly 1.5-3x its box or the first
    click's window, a fifth of the time smaller than the box; centre jittered, mostly kept inside."""
    height, width = target.shape
    cx, cy, box = box_of(target)
    if rng.random() < 0.2:
        side = box * rng.uniform(0.5, 1.0)
    else:
        side = max(box * rng.uniform(1.5, 3.0), MIN_SIDE * rng.uniform(0.5, 1.3))
    side = min(max(side, size / MAX_UPSAMPLING), 1.1 * max(width, height))
    cx += rng.uniform(-0.2, 0.2) * side
    cy += rng.uniform(-0.2, 0.2) * side
    left, top = cx - side / 2, cy - side / 2
    if rng.random() < 0.7:
        left, top = shifted_inside(left, top, side, width, height)
    return FocusCrop(left, top, side)


def adjacent_union(segments: np.ndarray, rng: random.Random) -> np.ndarray | None:
    """One superpixel of a suitable size, or a union of it and up to 5 adjacent ones (ScribblePrompt)."""
    counts = np.bincount(segments.ravel())
    area = segments.size
    candidates = np.nonzero((counts >= 40) & (counts <= 0.35 * area))[0]
    if candidates.size == 0:
        return None
    mask = segments == int(rng.choice(list(candidates)))
    for _ in range(rng.choice([0, 0, 1, 2, 3, 4, 5])):
        ring = ndimage.binary_dilation(mask) & ~mask
        neighbours = np.unique(segments[ring])
        if neighbours.size == 0:
            break
        grown = mask | (segments == int(rng.choice(list(neighbours))))
        if grown.sum() > 0.5 * area:
            break
        mask = grown
    return mask


def one_structure_mask(labels: np.ndarray, rng: random.Random, min_pixels: int = 20) -> np.ndarray | None:
    """One labelled structure present in the slice (at least `min_pixels`), as a mask."""
    values, counts = np.unique(labels, return_counts=True)
    present = [int(v) for v, c in zip(values, counts) if v != 0 and c >= min_pixels]
    return None if not present else labels == rng.choice(present)


class FocusSampler:
    """Training images and targets (size x size) seen through focus windows. `shares`: how often a
    sample comes from the superpixels of real slices, from FreeSurfer structures, and from the
    phantoms (`volumes`)."""

    def __init__(self, real: Path | None, volumes: list[Volume], size: int,
                 shares: tuple[float, float, float] = (0.45, 0.25, 0.30)):
        self.size, self.volumes = size, volumes
        self.slices: list[tuple[np.ndarray, np.ndarray]] = []  # (image, superpixel maps)
        self.labelled: list[tuple[np.ndarray, np.ndarray]] = []  # (image, structures)
        self.names: list[str] = []
        for path in sorted(real.glob("*.npz")) if real else []:
            self.names.append(path.stem)
            with np.load(path) as file:
                for i in range(int(file["count"])):
                    image = file[f"image{i}"].astype(np.float32)
                    self.slices.append((image, file[f"segments{i}"]))
                    if file[f"structures{i}"].any():
                        self.labelled.append((image, file[f"structures{i}"]))
        available = [bool(self.slices), bool(self.labelled), bool(volumes)]
        self.shares = [share if ok else 0.0 for share, ok in zip(shares, available)]

    def describe(self) -> str:
        return (f"{len(self.slices)} real slices ({', '.join(self.names)}), {len(self.labelled)} with FreeSurfer "
                f"structures, {len(self.volumes)} phantom volumes; shares {self.shares}")

    def structure_share(self, samples: int = 256) -> float:
        """The structure's mean share of a window, over `samples` draws (a fixed seed)."""
        rng = random.Random(0)
        return float(np.mean([self.sample(rng)[1].mean() for _ in range(samples)]))

    def draw(self, rng: random.Random) -> tuple[np.ndarray, np.ndarray] | None:
        """One (image, target mask) at the slice's own size, or None when the draw found no target."""
        source = rng.choices(range(3), weights=self.shares)[0]
        if source == 0:
            image, maps = rng.choice(self.slices)
            return image, adjacent_union(maps[rng.randrange(maps.shape[0])], rng)
        if source == 1:
            image, labels = rng.choice(self.labelled)
            return image, one_structure_mask(labels, rng)
        volume = rng.choice(self.volumes)
        index = rng.randrange(volume.labels.shape[0])
        return volume.image[index], one_structure_mask(volume.labels[index], rng)

    def sample(self, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
        while True:
            image, target = self.draw(rng)
            if target is None or not target.any():
                continue
            if rng.random() < 0.5:  # real slices come in every orientation: transposes too
                image, target = image.T, target.T
            crop = training_crop(target, self.size, rng)
            seen = crop.sample(target.astype(np.float32), self.size, 0.0) >= 0.5
            if seen.sum() < 8:
                continue
            return augment(crop.sample(image, self.size, -1.0), seen.astype(np.uint8), rng)
