"""Trains the SIM interactive network (or its CIM ablation, or the class-agnostic SIM) with Dynamic
Data Generation.

Each batch: slices drawn from the training phantoms (90% with foreground), augmented; k in 0..D
interaction steps are simulated with fixed weights (DDG: the virtual user clicks on the network's own
output, the clicks and outputs fill the memory), then one forward pass with the filled memory is
backpropagated with the focal loss. With `--single-click-share` a share of the images gets a user
that clicks as a radiologist and the evaluation do instead: one click per step, in the largest
error region of any class. Time-bounded and resumable: the checkpoint holds the weights,
the optimiser, the step count and the random state.

The class-agnostic variant `any` is the SIM network with N = 2 (background, "this structure"):
each sampled slice keeps one structure of its case as the foreground, drawn at random among the
structures present, so every structure of every case is learned one at a time. `--real DIR` adds
the real labelled training images (real_data.py), `--init FILE` starts from an exported network's
weights wherever the shapes agree (everything but the first convolution and the classifier); a SIM
network started from the CIM network also takes its first convolution (`sim_stem_from_cim`).

usage: train_sim.py --data DIR --variant sim|cim|any --minutes M [--max-steps S] --out checkpoints/sim.pt
                    [--threads 1] [--real DIR] [--init Models/sim.safetensors] [--hold-out 0.8]
                    [--single-click-share 0] [--probability-dropout 0] [--final-lr L]
                    [--memory-depth 2]
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from common import VirtualUser, class_weights, focal_loss, load_volumes, soft_dice_loss
from focus import FocusSampler
from models import SimNet
import training_run
from recalibrate import recalibrated
from sim_batches import CLASSES, DEPTH, SIZE, ddg_memory, make_net, sample_batch

RECALIBRATION_BATCHES = 60  # batches of every memory regime (0..6 DDG steps) for frozen statistics


FILE_NAMES = {"sim": "sim", "cim": "cim", "any": "sim-any"}


def sim_stem_from_cim(weight: torch.Tensor, depth: int) -> torch.Tensor:
    """The CIM stem's weights (C, 1 + N, k, k) spread over SIM's input (C, 1 + 2·D·N, k, k): the image
    channel as it is, CIM's merged click masks for the click masks of every state, zeros for the
    probability maps. Without clicks, or with clicks at distinct places in the last D steps, the SIM
    network then gives CIM's output, and learns from there what the probability maps add."""
    image, clicks = weight[:, :1], weight[:, 1:]
    state = torch.cat([clicks, torch.zeros_like(clicks)], 1)
    return torch.cat([image] + [state] * depth, 1)


def deepened_stem(weight: torch.Tensor, channels: int) -> torch.Tensor:
    """A shallower SIM network's stem weights (C, 1 + 2·d·N, k, k) for a deeper memory's input, or for
    the same memory and a walker channel after it: zeros for the older states or the walker channel it
    did not have, so the new network starts as the old one's function and learns from there what the
    new channels add."""
    missing = channels - weight.shape[1]
    return torch.cat([weight, weight.new_zeros(weight.shape[0], missing, *weight.shape[2:])], 1)


def initialise(net: SimNet, path: Path, variant: str) -> tuple[int, int]:
    """Copies every tensor of an exported network whose name and shape match; a SIM network started
    from a CIM network also takes its stem (`sim_stem_from_cim`). Returns how many, and the steps that
    network was trained for when it is this variant's own network or a CIM network a SIM network
    starts from (a run that goes on counting from there), else 0 (a new network that borrows some of
    another's weights). A SIM network started from its own variant with a shallower memory, or without
    the walker channel, takes the stem too (`deepened_stem`) and goes on counting."""
    if path.suffix == ".pt":
        exported, document = checkpoint_as_export(path, variant)
    else:
        from safetensors import safe_open
        from safetensors.torch import load_file
        exported = load_file(path)
        with safe_open(path, "pt") as file:
            document = json.loads(file.metadata()["delineate"])
    from_cim = variant == "sim" and document["model"] == FILE_NAMES["cim"]
    stem = "stem.conv.weight"
    if from_cim:
        exported[stem] = sim_stem_from_cim(exported[stem], net.memory_depth)
    elif document["model"] == FILE_NAMES[variant] and exported[stem].shape[1] < net.input_channels:
        if net.walker and document.get("walkerChannel", False):
            raise SystemExit("--init: a walker network's memory cannot be deepened")
        exported[stem] = deepened_stem(exported[stem], net.input_channels)
    state = net.state_dict()
    taken = {name: value for name, value in exported.items() if name in state and state[name].shape == value.shape}
    state.update(taken)
    net.load_state_dict(state)
    # The per-regime batch-norm statistics (`regime{r}.*`) have no place in the network itself.
    own = [name for name in exported if not name.startswith("regime")]
    whole = len(taken) == len(own) and (from_cim or document["model"] == FILE_NAMES[variant])
    return len(taken), document["trainingSteps"] if whole else 0


def checkpoint_as_export(path: Path, variant: str) -> tuple[dict, dict]:
    """A training checkpoint of this variant read as `initialise` reads an exported network: its
    weights, and the model, memory depth and steps the export's metadata would give."""
    checkpoint = torch.load(path, weights_only=False, map_location="cpu")
    document = {"model": FILE_NAMES[variant], "memoryDepth": checkpoint.get("memory_depth", DEPTH),
                "trainingSteps": checkpoint["step"], "walkerChannel": checkpoint.get("walker_channel", False)}
    return {name: value for name, value in checkpoint["model"].items() if "num_batches" not in name}, document


def structure_weights(volumes) -> torch.Tensor:
    """Focal-loss weights for one structure against the rest where the structure's frequency is its
    mean share of its case's voxels."""
    shares = [np.mean(volume.labels == value) for volume in volumes for value in np.unique(volume.labels) if value]
    return weights_of_share(float(np.mean(shares)))


def weights_of_share(foreground: float) -> torch.Tensor:
    """Focal-loss weights of background and structure ∝ 1/sqrt(frequency), mean 1."""
    weights = 1 / np.sqrt(np.array([1 - foreground, foreground]))
    return torch.tensor(weights / weights.mean(), dtype=torch.float32)


def main() -> int:
    parser = training_run.parser(batch=8, lr=2e-3, seed=7)
    parser.add_argument("--variant", choices=["sim", "cim", "any"], default="sim")
    parser.add_argument("--real", type=Path, default=None, help="add the real labelled training images here")
    parser.add_argument("--focus", type=Path, default=None,
                        help="class-agnostic network: train on focus windows of the real slices and pseudo-targets "
                             "here (pseudo_targets.py) and of the phantoms")
    parser.add_argument("--dice-weight", type=float, default=0.0,
                        help="add this times the soft Dice loss of the foreground to the focal loss (0: focal only)")
    parser.add_argument("--state-reset", type=float, default=0.0,
                        help="share of images whose ConvLSTM states start empty in the loss pass (inference resets "
                             "them when the focus window moves)")
    parser.add_argument("--init", type=Path, default=None,
                        help="start from these exported weights (or a training checkpoint .pt of this variant)")
    parser.add_argument("--ddg-steps", type=int, default=6, help="at most this many DDG steps per batch")
    parser.add_argument("--hold-out", type=float, default=0.8,
                        help="share of the DDG user's clicks left out (the paper's routine: 0.8)")
    parser.add_argument("--clicked-region-weight", type=float, default=0.0,
                        help="least focal-loss weight of the pixels of the error regions clicked (0: off)")
    parser.add_argument("--single-click-share", type=float, default=0.0,
                        help="share of images whose DDG user clicks once per step, as the evaluation does (the "
                             "class-agnostic network: after its first step)")
    parser.add_argument("--memory-depth", type=int, default=DEPTH,
                        help="SIM's memory depth D: the interaction states it keeps (a resumed run keeps its own)")
    parser.add_argument("--probability-dropout", type=float, default=0.0,
                        help="share of images whose memory's probability maps are zeroed for the loss pass (SIM)")
    parser.add_argument("--walker-channel", action="store_true",
                        help="class-agnostic network: the random walker's probability from the same clicks as a last "
                             "input channel (a learned refinement of the walker; a resumed run keeps its own)")
    args = parser.parse_args()
    if args.probability_dropout > 0 and args.variant == "cim":
        raise SystemExit("--probability-dropout: the CIM memory holds no probability maps")
    depth, walker = args.memory_depth, args.walker_channel
    if args.walker_channel and args.variant != "any":
        raise SystemExit("--walker-channel: only the class-agnostic network takes the walker's probability")
    if args.out.exists():
        resumed = torch.load(args.out, weights_only=False, map_location="cpu")
        depth, walker = resumed.get("memory_depth", DEPTH), resumed.get("walker_channel", False)
    net = make_net(args.variant, depth, walker)
    earlier_steps = 0
    if args.init is not None and not args.out.exists():
        taken, earlier_steps = initialise(net, args.init, args.variant)
        print(f"started from {args.init}: {taken} tensors taken, {earlier_steps} steps before", flush=True)
    elif args.init is not None:
        print(f"{args.out} exists, so the run resumes it and --init is not used", flush=True)
    run = training_run.TrainingRun(args, net)
    if run.step == 0:
        run.step = earlier_steps
    volumes = load_volumes(args.data)
    if args.real is not None:
        from real_data import training_volumes
        real = training_volumes(args.real, SIZE)
        print(f"real training images: {', '.join(v.name for v in real)}", flush=True)
        volumes += real
    agnostic = args.variant == "any"
    if args.focus is not None:
        if not agnostic:
            raise SystemExit("--focus: only the class-agnostic network sees focus windows")
        volumes = FocusSampler(args.focus, volumes, SIZE)
        weights = weights_of_share(volumes.structure_share())
        print(f"{volumes.describe()}; class weights {weights.numpy().round(2)}", flush=True)
        run.settings["focus"] = str(args.focus)
    else:
        weights = structure_weights(volumes) if agnostic else class_weights(volumes, CLASSES)
        print(f"{len(volumes)} training volumes, class weights {weights.numpy().round(2)}", flush=True)
    if args.freeze_statistics:
        run.freeze_statistics(lambda net: net.load_state_dict(
            recalibrated(net, args.variant, volumes, RECALIBRATION_BATCHES)))

    user = VirtualUser(args.hold_out, args.single_click_share, args.clicked_region_weight)
    run.settings["memory_depth"] = net.memory_depth
    run.settings["walker_channel"] = net.walker
    device = run.device
    weights = weights.to(device)
    run.settings["user"] = asdict(user)  # the export re-estimates batch-norm statistics with the same user

    def step(rng):
        images, labels = sample_batch(volumes, args.batch, rng, agnostic)
        images = images.to(device)
        memory, clicked = ddg_memory(run.net, args.variant, images, labels, rng, args.ddg_steps, user=user)
        if args.probability_dropout > 0:
            memory.drop_probabilities(
                torch.tensor([rng.random() < args.probability_dropout for _ in labels], device=device))
        if args.state_reset > 0:
            memory.reset_states(torch.tensor([rng.random() < args.state_reset for _ in labels], device=device))
        logits, target = memory.run(run.net, images), torch.from_numpy(labels).long().to(device)
        losses = [focal_loss(logits, target, weights, clicked=clicked, clicked_weight=user.clicked_region_weight)]
        return losses + ([args.dice_weight * soft_dice_loss(logits, target)] if args.dice_weight > 0 else [])

    run.loop(step, ["loss"] + (["dice"] if args.dice_weight > 0 else []))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
