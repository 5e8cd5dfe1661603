"""Reads the cases `delineate phantom` writes, for training and evaluation in PyTorch.

A case folder holds dicom/NNNN.dcm (the series), labels.raw and labels.json (the ground truth).
`load_case` returns the image in real-world units (HU for CT) and the labels as numpy arrays of
shape (slices, rows, columns), sorted along the slice normal as the daemon's ingest sorts them.

usage as a script: phantom_data.py DIR   prints one line per case (a check that a set is readable)
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom


@dataclass
class PhantomCase:
    name: str
    modality: str
    image: np.ndarray  # float32 (slices, rows, columns), real-world values
    labels: np.ndarray  # uint8 (slices, rows, columns), class index per voxel
    spacing_mm: tuple[float, float, float]  # slice, row, column
    classes: list[str]


def load_case(folder: Path) -> PhantomCase:
    meta = json.loads((folder / "labels.json").read_text())
    labels = np.fromfile(folder / "labels.raw", dtype=np.uint8).reshape(meta["shape"])
    datasets = [pydicom.dcmread(path) for path in (folder / "dicom").glob("*.dcm")]
    orientation = np.array(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(orientation[:3], orientation[3:])
    datasets.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, dtype=float), normal)))
    image = np.stack([
        d.pixel_array.astype(np.float32) * float(getattr(d, "RescaleSlope", 1)) + float(getattr(d, "RescaleIntercept", 0))
        for d in datasets
    ])
    if image.shape != labels.shape:
        raise ValueError(f"{folder}: image {image.shape} and labels {labels.shape} differ")
    return PhantomCase(
        name=folder.name, modality=meta["modality"], image=image, labels=labels,
        spacing_mm=tuple(meta["spacing_mm"]), classes=[c["name"] for c in meta["classes"]])


def case_folders(root: Path) -> list[Path]:
    """Every case folder below `root` (those with a labels.json), sorted by name."""
    return sorted(path.parent for path in root.rglob("labels.json"))


def main() -> int:
    for folder in case_folders(Path(sys.argv[1])):
        case = load_case(folder)
        present = [case.classes[i] for i in np.unique(case.labels)]
        print(f"{case.name} {case.modality} {case.image.shape} spacing {case.spacing_mm} "
              f"range [{case.image.min():.0f}, {case.image.max():.0f}] classes {present}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
