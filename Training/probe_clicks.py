"""How much of the region a click is placed in does the network then fix? A diagnostic that the Dice
curves of `delineate eval` cannot give: a flat curve can mean that the network ignores clicks, or
that the errors left are too thin for any click to fix.

For the exported SIM and CIM (per-regime batch-norm statistics as the engine picks them), on every
n-th foreground slice of a phantom set, the evaluation's virtual user clicks (the interior maximum
of the largest error region of any class) up to `--clicks` times, and each click is scored by the
share of its region that the next output labels with the click's class. Clicks are grouped by the
region's depth (largest distance from the region's border, pixels at the network size). A second
table says what the clicks of each class did to every class: the pixels it gained wrongly (false
positives) and those it lost (false negatives), summed over the clicks; it is how session 10 found
that SIM's cavity "loss" was 40 pixels on the same coordinates of every case.

usage: probe_clicks.py --models ../Models --data ../data/validation [--every 16] [--clicks 3]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from scipy import ndimage

from common import click_maps, clicked_region, dice, evaluation_click, load_volumes
from interaction import InteractionMemory
from sim_batches import CLASSES, SIZE, make_net

DEPTH_BINS = [(0, 1.5), (1.5, 2.5), (2.5, 4), (4, float("inf"))]


def regime_networks(path: Path, variant: str) -> list[torch.nn.Module]:
    """One network per batch-norm regime of an exported file (regime r: after r interaction steps;
    the metadata's `statisticRegimes` says how many; the base tensors are regime 0)."""
    tensors = load_file(path)
    with safe_open(path, "pt") as file:
        document = json.loads(file.metadata()["delineate"])
    regimes = document["statisticRegimes"]
    base = {name: value for name, value in tensors.items() if not name.startswith("regime")}
    networks = []
    for regime in range(regimes):
        prefix = f"regime{regime}."
        state = dict(base)
        state.update({name[len(prefix):]: value for name, value in tensors.items() if name.startswith(prefix)})
        net = make_net(variant, document["memoryDepth"])
        net.load_state_dict(state, strict=False)  # the exported file leaves out num_batches_tracked
        networks.append(net.eval())
    return networks


def mean_foreground_dice(prediction: np.ndarray, truth: np.ndarray) -> float:
    scores = [score for label in range(1, CLASSES) if (score := dice(prediction, truth, label)) is not None]
    return float(np.mean(scores)) if scores else 1.0


def errors(prediction: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per class: [false-positive pixels, false-negative pixels]."""
    return np.array([[((prediction == c) & (truth != c)).sum(), ((prediction != c) & (truth == c)).sum()]
                     for c in range(CLASSES)])


def probe(networks, variant: str, volumes, every: int, clicks: int):
    """Per click: (region depth, region size, share fixed, clicked class, per-class change of the
    errors); and per slice the Dice before and after."""
    records, before, after = [], [], []
    for volume in volumes:
        slices = [i for i in range(volume.labels.shape[0]) if volume.labels[i].any()][::every]
        for index in slices:
            image = torch.from_numpy(np.ascontiguousarray(volume.image[index], dtype=np.float32))[None, None]
            truth = volume.labels[index]
            memory = InteractionMemory(1, CLASSES, networks[0].memory_depth, SIZE, cumulative=variant == "cim")
            with torch.no_grad():
                probabilities = torch.softmax(memory.run(networks[0], image), 1)
                prediction = probabilities.argmax(1)[0].numpy()
                before.append(mean_foreground_dice(prediction, truth))
                for step in range(1, clicks + 1):
                    click = evaluation_click(prediction, truth, CLASSES)
                    if click is None:
                        break
                    label = click[2]
                    region = clicked_region(prediction, truth, click)
                    depth = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1].max()
                    errors_before = errors(prediction, truth)
                    memory.push(torch.from_numpy(click_maps([click], CLASSES, SIZE))[None], probabilities)
                    probabilities = torch.softmax(memory.run(networks[min(step, len(networks) - 1)], image), 1)
                    prediction = probabilities.argmax(1)[0].numpy()
                    records.append((float(depth), int(region.sum()), float((prediction[region] == label).mean()),
                                    label, errors(prediction, truth) - errors_before))
                after.append(mean_foreground_dice(prediction, truth))
    return records, before, after


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=Path, default=Path(__file__).parent.parent / "Models")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--every", type=int, default=16, help="every n-th slice that holds foreground")
    parser.add_argument("--clicks", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    volumes = load_volumes(args.data)
    print("| network | region depth (px) | clicks | mean region size (px) | share of the region fixed |")
    print("| --- | --- | ---: | ---: | ---: |")
    summaries, changes = [], []
    for variant in ("sim", "cim"):
        records, before, after = probe(regime_networks(args.models / f"{variant}.safetensors", variant), variant,
                                       volumes, args.every, args.clicks)
        for low, high in DEPTH_BINS:
            chosen = [r for r in records if low <= r[0] < high]
            if chosen:
                print(f"| {variant.upper()} | {low}-{high} | {len(chosen)} | {np.mean([r[1] for r in chosen]):.0f} "
                      f"| {np.mean([r[2] for r in chosen]):.3f} |")
        for label in sorted({r[3] for r in records}):
            chosen = [r for r in records if r[3] == label]
            change = sum(r[4] for r in chosen)
            changes.append(f"| {variant.upper()} | {label} | {len(chosen)} | "
                           + " | ".join(f"{fp:+d} / {fn:+d}" for fp, fn in change[1:].tolist()) + " |")
        summaries.append(f"{variant.upper()}: {len(records)} clicks on {len(before)} slices, region fixed "
                         f"{np.mean([r[2] for r in records]):.3f}; mean slice Dice {np.mean(before):.3f} -> "
                         f"{np.mean(after):.3f} after {args.clicks} clicks")
    print("\nChange of the errors after the clicks of each class (false positives / false negatives, pixels):\n")
    print("| network | clicked class | clicks | " + " | ".join(f"class {c}" for c in range(1, CLASSES)) + " |")
    print("| --- | ---: | ---: |" + " ---: |" * (CLASSES - 1))
    print("\n".join(changes))
    print("\n" + "\n".join(summaries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
