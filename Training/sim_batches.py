"""The SIM network as training builds it, and its Dynamic Data Generation batches: shared by
train_sim.py (training) and recalibrate.py (batch-norm statistics for frozen training), so that
neither imports the other."""
from __future__ import annotations

import random

import numpy as np
import torch

from common import VirtualUser, augment, clicked_region, ddg_clicks, click_maps, evaluation_click, start_episode
from focus import FocusSampler
from interaction import InteractionMemory
from models import SimNet

CLASSES, DEPTH, SIZE = 6, 2, 128  # DEPTH: the memory depth D a SIM network gets unless told otherwise


def classes_of(variant: str) -> int:
    """N: the phantom classes, or background and one structure for the class-agnostic network."""
    return 2 if variant == "any" else CLASSES


def make_net(variant: str, depth: int = DEPTH, walker: bool = False) -> SimNet:
    return SimNet(classes_of(variant), 0 if variant == "cim" else depth, cumulative=variant == "cim", walker=walker)


def net_of_checkpoint(variant: str, checkpoint: dict) -> SimNet:
    """The network a training checkpoint holds, with its memory depth (older checkpoints: DEPTH) and
    walker channel."""
    net = make_net(variant, checkpoint.get("memory_depth", DEPTH), checkpoint.get("walker_channel", False))
    net.load_state_dict(checkpoint["model"])
    return net


def one_structure(labels: np.ndarray, rng: random.Random) -> np.ndarray:
    """The slice's labels reduced to one structure present in it (1) against everything else (0)."""
    present = [value for value in np.unique(labels) if value != 0]
    if not present:
        return np.zeros_like(labels)
    return (labels == rng.choice(present)).astype(np.uint8)


def sample_batch(volumes, batch: int, rng: random.Random, agnostic: bool = False):
    """A batch of (B, 1, S, S) images and (B, S, S) labels: whole phantom slices, or with a
    FocusSampler (the class-agnostic network on real images) structures seen through focus windows."""
    if isinstance(volumes, FocusSampler):
        pairs = [volumes.sample(rng) for _ in range(batch)]
        return torch.from_numpy(np.stack([p[0] for p in pairs]))[:, None], np.stack([p[1] for p in pairs])
    images, labels = [], []
    while len(images) < batch:
        volume = rng.choice(volumes)
        index = rng.randrange(volume.labels.shape[0])
        if not volume.labels[index].any() and rng.random() < 0.9:
            continue
        truth = one_structure(volume.labels[index], rng) if agnostic else volume.labels[index]
        image, label = augment(volume.image[index], truth, rng)
        images.append(image)
        labels.append(label)
    return torch.from_numpy(np.stack(images))[:, None], np.stack(labels)


def ddg_memory(net, variant, images, labels, rng, max_steps: int, exactly: int | None = None, step_net=None,
               user: VirtualUser = VirtualUser()):
    """Runs k (0..max_steps) DDG steps with fixed weights and returns the filled memory, and (B, H, W)
    the error regions the clicks were placed in (none when the user's clicked-region weight is 0).
    With max_steps > D the memory rolls over as it does when a radiologist clicks more than D times.
    `step_net(j)`, when given, is the network that runs step j (batch-norm recalibration)."""
    batch = images.shape[0]
    classes = classes_of(variant)
    memory = InteractionMemory(batch, classes, net.memory_depth, SIZE, cumulative=variant == "cim",
                               walker=net.walker, device=images.device)
    agnostic = variant == "any"
    # A class-agnostic network has nothing to go on without a click: it always gets its first step,
    # with every initial click kept (one per error component, the structure's included).
    steps = rng.randint(1 if agnostic else 0, max_steps) if exactly is None else exactly
    episodes = [start_episode(labels[i], classes, rng, exclude_one=not agnostic) for i in range(batch)]
    # The class-agnostic network's single-click user takes over after the first step (whose clicks
    # name the structure); with no share given it draws nothing, as before session 19.
    clicks_singly = [(not agnostic or user.single_click_share > 0) and rng.random() < user.single_click_share
                     for _ in range(batch)]

    def clicks_of(i: int, step: int, prediction: np.ndarray) -> list:
        if clicks_singly[i] and not (agnostic and step == 0):
            click = evaluation_click(prediction, labels[i], classes, rng)
            return [] if click is None else [click]
        held_out = 0.0 if agnostic and step == 0 else user.hold_out
        return ddg_clicks(episodes[i], prediction, labels[i], rng, hold_out=held_out)

    clicked = np.zeros(labels.shape, dtype=bool)
    with torch.no_grad():
        for step in range(steps):
            probabilities = torch.softmax(memory.run(step_net(step) if step_net else net, images), 1)
            predictions = probabilities.argmax(1).cpu().numpy()
            step_clicks = [clicks_of(i, step, predictions[i]) for i in range(batch)]
            if user.clicked_region_weight > 0:  # the regions only matter to the loss's weighting
                for i, image_clicks in enumerate(step_clicks):
                    for click in image_clicks:
                        clicked[i] |= clicked_region(predictions[i], labels[i], click)
            clicks = torch.from_numpy(np.stack([click_maps(c, classes, SIZE) for c in step_clicks]))
            memory.push(clicks.to(images.device), probabilities, images, step_clicks)
    return memory, torch.from_numpy(clicked).to(images.device)


# The file each variant is exported to (Models/<name>.safetensors, and the metadata's "model").
