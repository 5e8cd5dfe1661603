"""Writes the real labelled volumes that `delineate eval --image/--label` reads but that are not
stored as NIfTI or NRRD, as NIfTI (the voxel order the daemon reads: columns fastest, then rows,
then slices):

  data/validation-real/voxelmorph-t1{,-labels}.nii.gz  the voxelmorph T1 and its FreeSurfer labels:
      the validation case for choosing what to commit (never trained on, never reported)
  data/heldout-real/dcmqi-ct{,-labels}.nii.gz          dcmqi's 3-slice CT (HU) with liver (1), spine
      (2) and heart (3): a reported held-out case (the class-agnostic network trained on it until
      session 18; from session 19 it is held out)
  data/heldout-phantom/<case>{,-labels}.nii.gz          every phantom case `delineate phantom` wrote
      below data/heldout-phantom (the class-agnostic network's phantom check, Docs/models.md)

usage: eval_volumes.py [--shared ../../shared] [--out ../data]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import nibabel
import numpy as np
import pydicom

from phantom_data import case_folders, load_case
from real_data import dcmqi_native


def write(volume: np.ndarray, spacing: tuple[float, float, float], path: Path):
    """(slices, rows, columns) as a NIfTI whose first axis is the columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    affine = np.diag([spacing[2], spacing[1], spacing[0], 1.0])
    nibabel.save(nibabel.Nifti1Image(np.ascontiguousarray(volume.transpose(2, 1, 0)), affine), str(path))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).parent.parent.parent / "shared")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "data")
    args = parser.parse_args()
    scan = np.load(args.shared / "data/train-real/voxelmorph-t1/test_scan.npz")
    # voxelmorph's (160, 192, 224) volume: its last axis as the slices, 1 mm
    write(scan["vol"].transpose(2, 1, 0).astype(np.float32), (1, 1, 1), args.out / "validation-real/voxelmorph-t1.nii.gz")
    write(scan["seg"].transpose(2, 1, 0).astype(np.int16), (1, 1, 1), args.out / "validation-real/voxelmorph-t1-labels.nii.gz")
    folder = args.shared / "data/real/dcmqi-ct-3slice"
    image, labels = dcmqi_native(folder)
    first = pydicom.dcmread(folder / "01.dcm")
    spacing = (float(first.SliceThickness), *map(float, first.PixelSpacing))
    write(image.astype(np.float32), spacing, args.out / "heldout-real/dcmqi-ct.nii.gz")
    write(labels.astype(np.int16), spacing, args.out / "heldout-real/dcmqi-ct-labels.nii.gz")
    for case_folder in case_folders(args.out / "heldout-phantom"):
        case = load_case(case_folder)
        write(case.image, case.spacing_mm, args.out / f"heldout-phantom/{case.name}.nii.gz")
        write(case.labels.astype(np.int16), case.spacing_mm, args.out / f"heldout-phantom/{case.name}-labels.nii.gz")
    print("written", *sorted(str(p) for p in args.out.glob("*-*/*.nii.gz")), sep="\n  ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
