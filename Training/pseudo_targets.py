"""Precomputes the real training slices of the class-agnostic network and their pseudo-targets.

Real images without expert labels teach the network real anatomy through targets made from the
image itself (ScribblePrompt, nnInteractive): Felzenszwalb superpixels at several scales, of which
training draws one, or a union of a few adjacent ones, as "the structure". The two FreeSurfer
brains' automatic labels add real anatomical structures as targets of their own. Everything is
written once, at the images' own pixel size, so that sampling during training costs no more than a
crop (the two cores are busy training).

Sources (../shared/data/README.md gives their licences; none is non-commercial):
  train-real/freesurfer-bert     T1 256^3 with aseg labels            (MR, labelled)
  train-real/unlabelled          CT_AVM, CT_pitch (CT), MR_Gd (MR)   (superpixels only)
  invesalius-examples            Debian's head CT (Cranium.inv3, GPL-2), when installed
Held out, never read here: train-real/voxelmorph-t1 (validation: choosing what to commit),
eval-real/*, real/* (the reported evaluation).

Each slice is taken along all three axes of a volume (every `--step`-th slice holding tissue),
normalised as the network's input (ModelInput: CT window, MR percentiles of the volume) and stored
with its superpixel maps (and FreeSurfer labels where there are any) in one .npz per volume.

usage: pseudo_targets.py --shared ../../shared --out ../data/real-slices [--step 6]
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

import nibabel
import numpy as np
from skimage.segmentation import felzenszwalb

from common import normalise

# Felzenszwalb scales (ScribblePrompt draws scale from U[1, 500], sigma 0.5, min size 32).
SCALES = (8, 40, 200, 500)
MIN_SIZE = 32
TISSUE_SHARE = 0.15  # a slice is used when at least this share of it is above the normalised floor


def load_nifti(path: Path) -> np.ndarray:
    """A NIfTI or MGH volume as (axis0, axis1, axis2) float32 in the file's voxel order."""
    return np.asarray(nibabel.load(str(path)).dataobj, dtype=np.float32)


def invesalius_volumes(root: Path) -> list[tuple[str, str, np.ndarray]]:
    """The head CTs of Debian's invesalius-examples: InVesalius projects (.inv3, a gzipped tar whose
    main.plist gives the int16 matrix's shape and modality), in HU."""
    import plistlib
    import tarfile
    volumes = []
    for path in sorted(root.glob("*.inv3")):
        with tarfile.open(path, "r:gz") as archive:
            members = {Path(m.name).name: m for m in archive.getmembers()}
            main = plistlib.loads(archive.extractfile(members["main.plist"]).read())
            matrix = main["matrix"]
            raw = archive.extractfile(members[matrix["filename"]]).read()
        volume = np.frombuffer(raw, dtype=matrix["dtype"]).reshape(matrix["shape"]).astype(np.float32)
        volumes.append((f"invesalius-{path.stem}", main["modality"], volume))
    return volumes


def sources(shared: Path) -> list[tuple[str, str, np.ndarray, np.ndarray | None]]:
    """(name, modality, volume in real-world values, labels or None) of every training source."""
    data = shared / "data/train-real"
    found = [("freesurfer-bert", "MR", load_nifti(data / "freesurfer-bert/norm.mgz"),
              load_nifti(data / "freesurfer-bert/aseg.mgz").astype(np.uint16))]
    for name, modality in (("CT_AVM", "CT"), ("CT_pitch", "CT"), ("MR_Gd", "MR")):
        found.append((name, modality, load_nifti(data / f"unlabelled/{name}.nii.gz"), None))
    examples = Path("/usr/share/doc/invesalius-examples/examples")
    if examples.exists():
        found += [(name, modality, volume, None) for name, modality, volume in invesalius_volumes(examples)]
    return found


def planes(volume: np.ndarray, labels: np.ndarray | None, step: int):
    """Every `step`-th slice along each axis that holds enough tissue: (image, labels or None)."""
    for axis in range(3):
        for index in range(step // 2, volume.shape[axis], step):
            image = np.take(volume, index, axis=axis)
            if min(image.shape) < 32 or np.mean(image > -0.9) < TISSUE_SHARE:
                continue
            yield image, None if labels is None else np.take(labels, index, axis=axis)


def superpixels(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """(len(SCALES), H, W) uint16: one Felzenszwalb segmentation per scale, sigma drawn around 0.5."""
    unit = (image + 1) / 2
    return np.stack([felzenszwalb(unit, scale=scale, sigma=rng.uniform(0.4, 0.8), min_size=MIN_SIZE)
                     for scale in SCALES]).astype(np.uint16)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).parent.parent.parent / "shared")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "data/real-slices")
    parser.add_argument("--step", type=int, default=6)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(17)
    for name, modality, volume, labels in sources(args.shared):
        normalised = normalise(volume, modality)
        images, segments, structures = [], [], []
        for image, plane_labels in planes(normalised, labels, args.step):
            images.append(image.astype(np.float16))
            segments.append(superpixels(image, rng))
            structures.append(np.zeros(image.shape, np.uint16) if plane_labels is None else plane_labels)
        # Slices of one volume differ in shape by axis: one array per slice and kind.
        arrays = {f"{kind}{i}": array for kind, arrays_of_kind in (("image", images), ("segments", segments),
                                                                    ("structures", structures))
                  for i, array in enumerate(arrays_of_kind)}
        np.savez_compressed(args.out / f"{name}.npz", modality=modality, count=len(images), **arrays)
        print(f"{name} ({modality}) {volume.shape}: {len(images)} slices", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
