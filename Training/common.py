"""What training, evaluation and export share: data loading and normalisation, click maps, the DDG
virtual user, augmentation, and the focal loss.

The normalisation and the click-map encoding are part of the model contract: the Swift engine
implements the same functions (Sources/Segmentation/ModelInput.swift) and the metadata names them.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from phantom_data import case_folders, load_case

CT_WINDOW = (-200.0, 300.0)
MR_PERCENTILES = (1.0, 99.0)
CLICK_RADIUS = 2  # pixels at the network's input size
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def normalise(volume: np.ndarray, modality: str) -> np.ndarray:
    """Real-world values to [-1, 1]: a fixed window for CT, the volume's 1st-99th percentiles for MR."""
    if modality == "CT":
        low, high = CT_WINDOW
    else:
        low, high = np.percentile(volume, MR_PERCENTILES)
    scaled = (volume.astype(np.float32) - low) / max(high - low, 1e-6)
    return np.clip(scaled, 0, 1) * 2 - 1


@dataclass
class Volume:
    name: str
    image: np.ndarray  # float32 (slices, rows, columns), normalised
    labels: np.ndarray  # uint8 (slices, rows, columns)


def load_volumes(root: Path) -> list[Volume]:
    """The phantom cases below `root`, normalised; or the volumes pack_volumes.py packed into `root`
    (an .npz file: a subset for a GPU machine, which the whole set does not fit the transfer to)."""
    if root.suffix == ".npz":
        with np.load(root) as file:
            return [Volume(str(name), file[f"image{i}"].astype(np.float32), file[f"labels{i}"])
                    for i, name in enumerate(file["names"])]
    volumes = []
    for folder in case_folders(root):
        case = load_case(folder)
        volumes.append(Volume(f"{folder.parent.name}/{case.name}", normalise(case.image, case.modality), case.labels))
    return volumes


def click_maps(clicks: list[tuple[int, int, int]], classes: int, size: int) -> np.ndarray:
    """(classes, size, size) float32: a disk of radius CLICK_RADIUS at every (x, y, class) click."""
    maps = np.zeros((classes, size, size), dtype=np.float32)
    yy, xx = np.mgrid[-CLICK_RADIUS:CLICK_RADIUS + 1, -CLICK_RADIUS:CLICK_RADIUS + 1]
    disk = (xx * xx + yy * yy) <= CLICK_RADIUS * CLICK_RADIUS
    for x, y, label in clicks:
        for dy, dx in zip(yy[disk], xx[disk]):
            if 0 <= y + dy < size and 0 <= x + dx < size:
                maps[label, y + dy, x + dx] = 1
    return maps


def error_regions(prediction: np.ndarray, truth: np.ndarray, label: int) -> list[np.ndarray]:
    """Boolean masks of the 8-connected regions that should be `label` and are not, largest first."""
    components, count = ndimage.label((truth == label) & (prediction != label), EIGHT_CONNECTED)
    regions = [components == i for i in range(1, count + 1)]
    return sorted(regions, key=lambda r: -int(r.sum()))


def interior_click(region: np.ndarray, rng: random.Random | None) -> tuple[int, int]:
    """The click in a region: the distance-transform maximum (rng None), or drawn ∝ distance²."""
    distance = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    if rng is None:
        index = int(np.argmax(distance))
    else:
        weights = (distance ** 2).ravel()
        index = rng.choices(range(weights.size), weights=weights)[0]
    return index % region.shape[1], index // region.shape[1]


@dataclass
class Episode:
    """One training image across the DDG steps: click probability p, the class left out (rule 3), and
    the clicks given per ground-truth component (at most 3)."""
    classes: int
    excluded: int | None
    probability: float = 1.0
    per_component: dict = field(default_factory=dict)


def start_episode(truth: np.ndarray, classes: int, rng: random.Random, exclude_one: bool = True) -> Episode:
    """A DDG episode; with `exclude_one` one foreground class present is never clicked (the SIM
    paper's rule for multi-class networks; a class-agnostic network must see its one class clicked)."""
    present = [c for c in range(1, classes) if (truth == c).any()]
    return Episode(classes, rng.choice(present) if present and exclude_one else None)


def ddg_clicks(episode: Episode, prediction: np.ndarray, truth: np.ndarray, rng: random.Random,
               decay_steps: float = 5, hold_out: float = 0.8, max_per_component: int = 3) -> list:
    """The DDG routine of the SIM paper for one image and one step: with p = 1 an initial click in
    every error component, with p < 1 a corrective click per class in its largest error region
    with probability p; p <- p - 1/t; one class ignored; 80% of the clicks held out."""
    clicks = []
    first = episode.probability >= 1
    for label in range(episode.classes):
        if label == episode.excluded or rng.random() >= episode.probability:
            continue
        regions = error_regions(prediction, truth, label)
        components = ndimage.label(truth == label, EIGHT_CONNECTED)[0]
        for region in regions if first else regions[:1]:
            y, x = np.argwhere(region)[0]
            key = (label, int(components[y, x]))
            if episode.per_component.get(key, 0) >= max_per_component:
                continue
            episode.per_component[key] = episode.per_component.get(key, 0) + 1
            cx, cy = interior_click(region, rng)
            clicks.append((cx, cy, label))
    episode.probability = max(0.0, episode.probability - 1 / decay_steps)
    return [c for c in clicks if rng.random() >= hold_out]


def evaluation_click(prediction: np.ndarray, truth: np.ndarray, classes: int, rng: random.Random | None = None):
    """The evaluation protocol's click, in the largest error region of any class: at its interior
    maximum (rng None, as `delineate eval` clicks), or drawn ∝ distance² (training)."""
    best = None
    for label in range(classes):
        regions = error_regions(prediction, truth, label)
        if regions and (best is None or regions[0].sum() > best[1].sum()):
            best = (label, regions[0])
    if best is None:
        return None
    x, y = interior_click(best[1], rng)
    return x, y, best[0]


@dataclass(frozen=True)
class VirtualUser:
    """How the DDG steps click. `hold_out`: the share of the paper's DDG clicks left out (rule 4).
    `single_click_share`: the share of training images whose user clicks instead as a radiologist
    does and as the evaluation does, one click per step in the largest error region of any class, so
    that the classes nobody clicked must still come from the image and the previous output.
    `clicked_region_weight`: the least focal-loss weight of the pixels of every error region a click
    was placed in (0: the class weights alone, the paper's loss)."""
    hold_out: float = 0.8
    single_click_share: float = 0.0
    clicked_region_weight: float = 0.0


def augment(image: np.ndarray, labels: np.ndarray, rng: random.Random):
    """Flips, an intensity shift, gamma, and blur or sharpen; image in [-1, 1]."""
    if rng.random() < 0.5:
        image, labels = image[:, ::-1], labels[:, ::-1]
    if rng.random() < 0.5:
        image, labels = image[::-1, :], labels[::-1, :]
    unit = np.clip((image + 1) / 2, 0, 1) ** np.exp(rng.uniform(-0.3, 0.3))
    image = unit * 2 - 1 + rng.uniform(-0.1, 0.1)
    choice = rng.random()
    if choice < 0.3:
        image = ndimage.gaussian_filter(image, rng.uniform(0.5, 1.0))
    elif choice < 0.5:
        image = image + rng.uniform(0.3, 1.0) * (image - ndimage.gaussian_filter(image, 1.0))
    return np.ascontiguousarray(image, dtype=np.float32), np.ascontiguousarray(labels)


def class_weights(volumes: list[Volume], classes: int) -> torch.Tensor:
    """Per-class focal-loss weights ∝ 1/sqrt(frequency), mean 1, capped at 10."""
    counts = np.zeros(classes)
    for volume in volumes:
        counts += np.bincount(volume.labels.ravel(), minlength=classes)[:classes]
    weights = 1 / np.sqrt(np.maximum(counts / counts.sum(), 1e-6))
    weights = np.minimum(weights / weights.mean(), 10)
    return torch.tensor(weights / weights.mean(), dtype=torch.float32)


def focal_loss(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, gamma: float = 2.0,
               clicked: torch.Tensor | None = None, clicked_weight: float = 0.0):
    """The focal loss with per-class weights; pixels where `clicked` (B, H, W) is set weigh at least
    `clicked_weight` whatever their class."""
    log_p = F.log_softmax(logits, 1).gather(1, target[:, None]).squeeze(1)
    pixel_weights = weights[target]
    if clicked is not None and clicked_weight > 0:
        pixel_weights = torch.where(clicked, pixel_weights.clamp(min=clicked_weight), pixel_weights)
    return (-pixel_weights * (1 - log_p.exp()) ** gamma * log_p).mean()


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 − the soft Dice of the foreground classes (every class but 0), per image, averaged: the
    overlap the evaluation scores, which the focal loss alone lets a blurry prior trade away."""
    probabilities = torch.softmax(logits, 1)[:, 1:]
    truth = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2)[:, 1:].float()
    overlap = (probabilities * truth).sum((2, 3))
    total = probabilities.sum((2, 3)) + truth.sum((2, 3))
    return (1 - (2 * overlap + 1) / (total + 1)).mean()


def clicked_region(prediction: np.ndarray, truth: np.ndarray, click: tuple[int, int, int]) -> np.ndarray:
    """The error region a click was placed in: the 8-connected pixels around it that should be the
    click's class and are not (empty when the click's pixel is not such a pixel)."""
    x, y, label = click
    components, _ = ndimage.label((truth == label) & (prediction != label), EIGHT_CONNECTED)
    return components == components[y, x] if components[y, x] else np.zeros_like(truth, dtype=bool)


def dice(prediction: np.ndarray, truth: np.ndarray, label: int) -> float | None:
    """Dice of one class; None when the class is in neither."""
    p, t = prediction == label, truth == label
    total = int(p.sum() + t.sum())
    return None if total == 0 else 2 * int((p & t).sum()) / total
