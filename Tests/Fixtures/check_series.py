"""Reads a phantom's DICOM series with pydicom (an independent reader) and checks its geometry
against labels.json: slice count, size, in-plane spacing and positions stacked along the normal.

usage: check_series.py CASE_FOLDER      prints OK or what differs; exits non-zero on a difference
"""
import json
import sys
from pathlib import Path

import numpy as np
import pydicom


def main() -> int:
    folder = Path(sys.argv[1])
    meta = json.loads((folder / "labels.json").read_text())
    slices, rows, columns = meta["shape"]
    slice_spacing, row_spacing, column_spacing = meta["spacing_mm"]
    datasets = [pydicom.dcmread(path) for path in sorted((folder / "dicom").glob("*.dcm"))]
    orientation = np.array(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(orientation[:3], orientation[3:])
    positions = sorted(float(np.dot(np.array(d.ImagePositionPatient, dtype=float), normal)) for d in datasets)
    problems = []
    if len(datasets) != slices:
        problems.append(f"{len(datasets)} files for {slices} slices")
    if any(d.Rows != rows or d.Columns != columns for d in datasets):
        problems.append("image size differs from labels.json")
    spacing = [float(v) for v in datasets[0].PixelSpacing]
    if abs(spacing[0] - row_spacing) > 1e-4 or abs(spacing[1] - column_spacing) > 1e-4:
        problems.append(f"pixel spacing {spacing} != {[row_spacing, column_spacing]}")
    steps = np.diff(positions)
    if len(steps) and np.max(np.abs(steps - slice_spacing)) > 1e-3:
        problems.append(f"slice steps {sorted(set(np.round(steps, 4)))} != {slice_spacing}")
    if datasets[0].SeriesInstanceUID != meta["series_instance_uid"]:
        problems.append("series UID differs from labels.json")
    print("OK" if not problems else "; ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
