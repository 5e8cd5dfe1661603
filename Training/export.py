"""Exports trained checkpoints for the Swift engine, with the golden tensors that pin it to PyTorch.

Writes:
  Models/sim.safetensors, Models/cim.safetensors, Models/sim-any.safetensors (the class-agnostic SIM,
      N = 2), Models/prop.safetensors: float32 weights (batch norm
      unfolded; the engine folds it at load) and the "delineate" metadata JSON (classes with codes and
      colours, N, D, input size, normalisation, architecture, training data, steps and commit).
  Tests/Fixtures/engine/ops.safetensors: every operator on small random tensors, with its output.
  Tests/Fixtures/engine/{sim,cim,sim-any,prop}-golden.safetensors: whole-network inputs and outputs with the
      exported weights (SIM: two consecutive steps, so the ConvLSTM state is checked too).

usage: export.py [--checkpoints Training/checkpoints] [--root .]
"""
from __future__ import annotations

import argparse
import functools
import json
import subprocess
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from common import CLICK_RADIUS, CT_WINDOW, MR_PERCENTILES, class_weights, load_volumes
from focus import GROWTH, MARGIN, MAX_GROWTHS, MIN_SIDE, FocusCrop, FocusSampler
from recalibrate import recalibrated, training_user
from models import ConvLSTMCell, PropNet
from walker import probabilities as walker_probabilities
from sim_batches import CLASSES, SIZE, net_of_checkpoint
from train_sim import FILE_NAMES

ANATOMY = ["SCT", "91723000", "Anatomical Structure"]
# The phantom anatomy's classes, as Sources/Server/LabelCatalogue.swift codes them.
PHANTOM_CLASSES = [
    {"name": "background", "scheme": "", "code": "", "meaning": "", "colour": [0, 0, 0]},
    {"name": "large organ", "scheme": "SCT", "code": "10200004", "meaning": "Liver", "colour": [221, 130, 101],
     "category": ANATOMY},
    {"name": "medium organ", "scheme": "SCT", "code": "35039007", "meaning": "Uterus", "colour": [80, 200, 80],
     "category": ANATOMY},
    {"name": "cavity", "scheme": "SCT", "code": "85756007", "meaning": "Tissue", "colour": [250, 250, 50],
     "category": ANATOMY},
    {"name": "lesion", "scheme": "SCT", "code": "108369006", "meaning": "Neoplasm", "colour": [200, 80, 250],
     "category": ["SCT", "49755003", "Morphologically Abnormal Structure"]},
    {"name": "vessel", "scheme": "SCT", "code": "59820001", "meaning": "Blood vessel", "colour": [60, 160, 250],
     "category": ANATOMY},
]


# The class-agnostic network's two classes: what a user names gets its own code in the case; the
# structure's default code is SNOMED CT "Tissue" (CID 7150's generic entry).
ANY_CLASSES = [
    PHANTOM_CLASSES[0],
    {"name": "structure", "scheme": "SCT", "code": "85756007", "meaning": "Tissue", "colour": [255, 200, 0],
     "category": ["SCT", "85756007", "Tissue"]},
]
FOCUS_TRAINING_DATA = ("focus windows (Training/focus.py) of real slices in three orientations with Felzenszwalb "
                       "superpixel pseudo-targets (one, or a union of up to 6 adjacent ones) and FreeSurfer structures "
                       "(Training/pseudo_targets.py: shared/data/train-real freesurfer-bert, CT_AVM, CT_pitch, MR_Gd, "
                       "Debian invesalius-examples head CT) and of the structures of the procedural phantoms (48 CT "
                       "seed 11 + 48 MR seed 12), from step 3,619 (session 19); from step 7,200 on a GPU with batch 32, the phantoms a "
                       "subset (pack_volumes.py: 24 then 12 cases of each modality, every 3rd slice), and from step "
                       "7,633 the random walker's probability in the window as a last input channel with its log-odds "
                       "added to the structure logit (session 20); before that ")
ANY_TRAINING_DATA = ("every structure of the procedural phantoms (delineate phantom --size 128 --slices 48, 48 CT "
                     "(seed 11) + 48 MR (seed 12)) one at a time, and dcmqi's 3-slice CT (liver, spine, heart); "
                     "the real MR cases are held out")


MULTI_CLASS_TRAINING_DATA = ("procedural phantoms: delineate phantom --size 128 --slices 48, 48 CT (seed 11) + 48 MR "
                             "(seed 12); the steps from 10,000 on session 10's generator, whose organs move between "
                             "cases; from step 27,800 also 64 low-contrast phantoms: --contrast 0.5, 16 CT (seed 13) + "
                             "16 MR (seed 14), and --contrast 0.25, 16 CT (seed 15) + 16 MR (seed 16); from step 36,400 also 64 "
                             "phantoms with lesion mimics: --mimics 3, 32 CT (seed 17) + 32 MR (seed 18)")
# The share of the log class weights the exported multi-class networks take out of their logits,
# chosen on the validation phantoms (Docs/models.md, session 15).
LOGIT_ADJUSTMENT_SHARE = 0.3
TRAINING_DATA = {
    "cim": MULTI_CLASS_TRAINING_DATA,
    "sim": MULTI_CLASS_TRAINING_DATA + "; steps 0-45,372 are the CIM network's, whose first convolution was spread "
                                       "over SIM's input with memory depth 6 (train_sim.py sim_stem_from_cim), and SIM "
                                       "trained on from there",
    "any": ANY_TRAINING_DATA,
}


def commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()


def metadata(model: str, steps: int, **architecture) -> dict[str, str]:
    document = {
        "model": model, "version": f"1.{steps}", "classes": PHANTOM_CLASSES, "inputSize": SIZE,
        "clickRadius": CLICK_RADIUS,
        "normalisation": {"ctWindow": list(CT_WINDOW), "mrPercentiles": list(MR_PERCENTILES)},
        "trainingData": "procedural phantoms: delineate phantom --size 128 --slices 48, 48 CT (seed 11) + 48 MR (seed 12)",
        "trainingSteps": steps, "commit": commit(),
        "memoryDepth": 0, "cumulative": False, "widths": [], "blocks": [], "decoderWidths": [],
        "keyChannels": 0, "valueChannels": 0, "statisticRegimes": 1,
    }
    document.update(architecture)
    return {"delineate": json.dumps(document)}


def weights_of(net) -> dict[str, torch.Tensor]:
    return {k: v.detach().float().contiguous() for k, v in net.state_dict().items() if "num_batches" not in k}


def load(path: Path, net):
    """The network with the checkpoint's weights, in evaluation mode, and the checkpoint itself."""
    checkpoint = torch.load(path, weights_only=False, map_location="cpu")
    net.load_state_dict(checkpoint["model"])
    return net.eval(), checkpoint


def logit_adjustment(training_volumes, share: float) -> list[float]:
    """Per class, −share · ln(w) for the focal loss's class weights w on the training volumes: the
    weights moved the decision towards rare classes wherever the image is ambiguous (the networks
    trained on low-contrast phantoms drew every structure too large), and this takes that share
    of the prior back out of the logits (the engine adds it before the argmax)."""
    weights = class_weights(training_volumes, CLASSES)
    return [round(-share * float(w), 6) for w in torch.log(weights)]


def export_sim(variant: str, checkpoints: Path, root: Path, training_volumes, regime_count: int,
               adjustment_share: float):
    """Batch norm saw one memory regime per training batch (the number of DDG steps), so the
    statistics are re-estimated per regime: the base tensors hold regime 0 (automatic), and
    `regime{r}.<name>` the running mean and variance after r interaction steps (the last regime:
    that many or more). The multi-class networks get the logit adjustment; the class-agnostic one
    none (its decision was never tuned)."""
    checkpoint = torch.load(checkpoints / f"{variant}.pt", weights_only=False, map_location="cpu")
    net = net_of_checkpoint(variant, checkpoint).eval()
    file_name = FILE_NAMES[variant]
    described = {"trainingData": TRAINING_DATA[variant]}
    volumes = training_volumes
    if variant == "any":
        described["classes"] = ANY_CLASSES
        if "focus" in checkpoint:
            described["focus"] = {"minimumSide": MIN_SIDE, "margin": MARGIN, "growth": GROWTH, "maxGrowths": MAX_GROWTHS}
            described["trainingData"] = FOCUS_TRAINING_DATA + ANY_TRAINING_DATA
            volumes = functools.cache(lambda: FocusSampler(Path(checkpoint["focus"]), training_volumes(), SIZE))
        if net.walker:
            described["walkerChannel"] = True  # the input's last channel: walker.py's probability in the window
    elif adjustment_share > 0:
        described["logitAdjustment"] = logit_adjustment(training_volumes(), adjustment_share)
    steps = checkpoint["step"]
    if checkpoint.get("frozen_statistics", False):
        regimes = [net.state_dict()]  # fine-tuned with one fixed set of statistics: export that set
    else:
        regimes: list[dict] = []
        user = training_user(checkpoint)
        for r in range(regime_count):
            regimes.append(recalibrated(net, variant, volumes(), 30, steps=r, earlier=regimes, user=user))
        net.load_state_dict(regimes[0])
    net.eval()
    tensors = weights_of(net)
    for r in range(1, len(regimes)):
        for name, value in regimes[r].items():
            if name.endswith("running_mean") or name.endswith("running_var"):
                tensors[f"regime{r}.{name}"] = value.float().contiguous()
    save_file(tensors, root / f"Models/{file_name}.safetensors", metadata(
        file_name, steps, memoryDepth=net.memory_depth, cumulative=net.cumulative, widths=[16, 32, 64, 128],
        blocks=[3, 4, 6, 3], decoderWidths=[16, 32, 64, 64], statisticRegimes=len(regimes), **described))
    generator = torch.Generator().manual_seed(3)
    first = torch.randn(1, net.input_channels, 64, 64, generator=generator)
    second = torch.randn(1, net.input_channels, 64, 64, generator=generator)
    with torch.no_grad():
        logits1, states = net(first)
        logits2, _ = net(second, states)
    save_file({"input1": first, "logits1": logits1, "input2": second, "logits2": logits2},
              root / f"Tests/Fixtures/engine/{file_name}-golden.safetensors")
    return steps


def export_prop(checkpoints: Path, root: Path):
    net, checkpoint = load(checkpoints / "prop.pt", PropNet())
    steps = checkpoint["step"]
    save_file(weights_of(net), root / "Models/prop.safetensors", metadata(
        "prop", steps, widths=[16, 32, 64], keyChannels=net.key_channels, valueChannels=64,
        keyCoordinateScale=PropNet.COORDINATE_SCALE))
    generator = torch.Generator().manual_seed(4)
    images = torch.randn(3, 1, 1, SIZE, SIZE, generator=generator)
    masks = (torch.rand(2, 1, 1, SIZE, SIZE, generator=generator) > 0.7).float()
    with torch.no_grad():
        keys = [net.encode_key(images[i])[2] for i in range(2)]
        values = [net.encode_value(images[i], masks[i]) for i in range(2)]
        f1, f2, key, query_value = net.encode_key(images[2])
        logits, quality = net.decode(f1, f2, query_value, net.read(key, torch.stack(keys, 1), torch.stack(values, 1)))
    tensors = {"image0": images[0], "image1": images[1], "image2": images[2], "mask0": masks[0], "mask1": masks[1],
               "key0": keys[0], "value0": values[0], "key2": key, "query_value2": query_value,
               "logits": logits, "quality": quality}
    save_file({k: v.contiguous() for k, v in tensors.items()}, root / "Tests/Fixtures/engine/prop-golden.safetensors")
    return steps


def export_operators(root: Path):
    """Every operator on small random tensors; geometry in the metadata."""
    g = torch.Generator().manual_seed(5)
    tensors, cases = {}, {}
    x = torch.randn(1, 5, 9, 11, generator=g)
    tensors["conv_input"] = x
    for name, (k, s, p, d) in {"k3s1p1": (3, 1, 1, 1), "k3s2p1": (3, 2, 1, 1), "k3s1p2d2": (3, 1, 2, 2),
                               "k1s1p0": (1, 1, 0, 1), "k1s2p0": (1, 2, 0, 1), "k5s1p2": (5, 1, 2, 1),
                               "k7s2p3": (7, 2, 3, 1)}.items():
        w = torch.randn(4, 5, k, k, generator=g)
        b = torch.randn(4, generator=g)
        tensors[f"conv_{name}.weight"], tensors[f"conv_{name}.bias"] = w, b
        tensors[f"conv_{name}_output"] = F.conv2d(x, w, b, s, p, d)
        cases[name] = [k, s, p, d]
    bn = torch.nn.BatchNorm2d(4).eval()
    bn.weight.data, bn.bias.data = torch.randn(4, generator=g), torch.randn(4, generator=g)
    bn.running_mean.data, bn.running_var.data = torch.randn(4, generator=g), torch.rand(4, generator=g) + 0.5
    w = torch.randn(4, 5, 3, 3, generator=g)
    tensors["convbn.conv.weight"] = w
    for key in ("weight", "bias", "running_mean", "running_var"):
        tensors[f"convbn.bn.{key}"] = getattr(bn, key).data.clone()
    tensors["convbn_output"] = F.relu(bn(F.conv2d(x, w, None, 1, 1)))
    small = torch.randn(1, 3, 5, 7, generator=g)
    tensors["small"] = small
    tensors["upsample2x_output"] = F.interpolate(small, scale_factor=2, mode="bilinear", align_corners=False)
    tensors["resize_9x4_output"] = F.interpolate(small, size=(9, 4), mode="bilinear", align_corners=False)
    tensors["softmax_output"] = torch.softmax(small, 1)
    tensors["sigmoid_output"] = torch.sigmoid(small)
    tensors["tanh_output"] = torch.tanh(small)
    tensors["maxpool_k3s2_output"] = F.max_pool2d(small, 3, 2)
    tensors["avgpool_k2s2_output"] = F.avg_pool2d(small, 2, 2)
    tensors["global_average_output"] = F.adaptive_avg_pool2d(small, 1)
    other = torch.randn(1, 3, 5, 7, generator=g)
    tensors["other"] = other
    tensors["add_relu_output"] = F.relu(small + other)
    tensors["concat_output"] = torch.cat([small, other], 1)
    linear = torch.nn.Linear(12, 6)
    features = torch.randn(2, 12, generator=g)
    tensors["linear.weight"], tensors["linear.bias"] = linear.weight.data, linear.bias.data
    tensors["linear_input"], tensors["linear_output"] = features, linear(features).detach()
    cell = ConvLSTMCell(3, 4)
    h, c = torch.randn(1, 4, 5, 7, generator=g), torch.randn(1, 4, 5, 7, generator=g)
    tensors["lstm.gates.weight"], tensors["lstm.gates.bias"] = cell.gates.weight.data, cell.gates.bias.data
    tensors["lstm_h"], tensors["lstm_c"] = h, c
    with torch.no_grad():
        _, (h2, c2) = cell(small, (h, c))
    tensors["lstm_h_output"], tensors["lstm_c_output"] = h2, c2
    query = torch.randn(1, 8, 4, 5, generator=g)
    keys = torch.randn(1, 3, 8, 4, 5, generator=g)
    values = torch.randn(1, 3, 6, 4, 5, generator=g)
    tensors["read_query"] = query
    for t in range(3):
        tensors[f"read_key{t}"], tensors[f"read_value{t}"] = keys[:, t], values[:, t]
    tensors["read_output"] = PropNet.read(query, keys, values)
    # The focus window's sampling (focus.py) of a 23 x 19 plane, the window reaching past its corner.
    plane = torch.randn(23, 19, generator=torch.Generator().manual_seed(6))
    window = FocusCrop(left=-3.25, top=6.5, side=21.0)
    tensors["focus_plane"], tensors["focus_window"] = plane, torch.tensor([window.left, window.top, window.side])
    tensors["focus_output"] = torch.from_numpy(window.sample(plane.numpy(), 16, -1.0))
    # The walker channel (walker.py) in a 96 x 96 window: a bright disk in noise, two structure clicks
    # and a background one, solved to a tight tolerance (the engine's solve starts at half the resolution).
    grid = torch.arange(96, dtype=torch.float32)
    disk = ((grid[None, :] - 40) ** 2 + (grid[:, None] - 50) ** 2 < 20 ** 2).float()
    image = disk - 0.5 + 0.1 * torch.randn(96, 96, generator=torch.Generator().manual_seed(7))
    clicks = [(40, 50, 1), (52, 45, 1), (75, 20, 0)]
    tensors["walker_image"], tensors["walker_clicks"] = image, torch.tensor(clicks, dtype=torch.float32)
    tensors["walker_output"] = walker_probabilities(image[None], [clicks], tolerance=1e-6)[0, 0]
    save_file({k: v.detach().contiguous() for k, v in tensors.items()}, root / "Tests/Fixtures/engine/ops.safetensors",
              {"convolutions": json.dumps(cases)})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoints", type=Path, default=Path(__file__).parent / "checkpoints")
    parser.add_argument("--root", type=Path, default=Path(__file__).parent.parent)
    parser.add_argument("--only", choices=["ops", "sim", "cim", "any", "prop"], action="append")
    parser.add_argument("--data", type=Path, default=Path(__file__).parent.parent / "data/train",
                        help="training volumes, for re-estimating batch-norm statistics and the class weights "
                             "the logit adjustment undoes")
    parser.add_argument("--logit-adjustment", type=float, default=LOGIT_ADJUSTMENT_SHARE,
                        help="share of the log class weights taken out of SIM's and CIM's logits (0: none)")
    parser.add_argument("--regimes", type=int, default=4,
                        help="batch-norm statistic regimes of a SIM or CIM trained with batch statistics: after 0, "
                             "1, ... interaction steps, the last for that many or more")
    args = parser.parse_args()
    (args.root / "Models").mkdir(exist_ok=True)
    (args.root / "Tests/Fixtures/engine").mkdir(parents=True, exist_ok=True)
    wanted = args.only or ["ops", "sim", "cim", "any", "prop"]
    torch.manual_seed(0)
    if "ops" in wanted:
        export_operators(args.root)
    # Read only when a checkpoint needs per-regime statistics re-estimated or the logit adjustment its class weights.
    training_volumes = functools.cache(lambda: load_volumes(args.data))
    for variant in ("sim", "cim", "any"):
        if variant in wanted:
            print(variant, "steps", export_sim(variant, args.checkpoints, args.root, training_volumes, args.regimes,
                                               args.logit_adjustment))
    if "prop" in wanted:
        print("prop steps", export_prop(args.checkpoints, args.root))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
