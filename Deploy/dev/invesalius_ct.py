"""Writes the real head CT of Debian's invesalius-examples (Cranium.inv3, GPL-2: an InVesalius
project, a gzipped tar of main.plist and the int16 Hounsfield matrix) as a DICOM CT Image Storage
series, one file per slice, for the demo: the demo's real patient beside the phantom.

The project holds 108 coronal slices of 256 x 256 at 0.957 mm, 1.5 mm apart ("orientation" 1 in
main.plist); the series keeps them coronal (Image Orientation (Patient) 1\\0\\0\\0\\0\\-1). UIDs are
derived from the file's content, so a rerun writes the same series and its import is idempotent.

usage: invesalius_ct.py [--project /usr/share/doc/invesalius-examples/examples/Cranium.inv3] OUT_DIR
"""
from __future__ import annotations

import argparse
import hashlib
import plistlib
import tarfile
from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID

PROJECT = Path("/usr/share/doc/invesalius-examples/examples/Cranium.inv3")


def read_project(path: Path) -> tuple[np.ndarray, list[float], dict]:
    """The int16 matrix (slices, rows, columns), the spacing (x, y, slice) and the main plist."""
    with tarfile.open(path, "r:gz") as archive:
        members = {Path(m.name).name: m for m in archive.getmembers()}
        main = plistlib.loads(archive.extractfile(members["main.plist"]).read())
        matrix = main["matrix"]
        raw = archive.extractfile(members[matrix["filename"]]).read()
    volume = np.frombuffer(raw, dtype=matrix["dtype"]).reshape(matrix["shape"]).astype(np.int16)
    return volume, [float(s) for s in main["spacing"]], main


def uid(digest: str, part: str) -> str:
    """A 2.25 UID (an integer from a UUID-sized hash) for one part of the series."""
    return "2.25." + str(int(hashlib.sha256(f"{digest}/{part}".encode()).hexdigest()[:32], 16))


def write_series(volume: np.ndarray, spacing: list[float], description: str, out: Path) -> int:
    digest = hashlib.sha256(volume.tobytes()).hexdigest()
    study, series, frame = uid(digest, "study"), uid(digest, "series"), uid(digest, "frame")
    slices, rows, columns = volume.shape
    out.mkdir(parents=True, exist_ok=True)
    for index in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = uid(digest, f"instance{index}")
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        ds = FileDataset(str(out / f"{index + 1:04d}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality, ds.ImageType = "CT", ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Cranium^InVesalius", "INV-CRANIUM", "", "O"
        ds.StudyDate = ds.SeriesDate = "20120914"
        ds.StudyTime = ds.SeriesTime = "120000"
        ds.StudyID, ds.AccessionNumber, ds.ReferringPhysicianName = "1", "", ""
        ds.StudyDescription, ds.SeriesDescription = "Head CT (InVesalius example)", description
        ds.SeriesNumber, ds.InstanceNumber, ds.AcquisitionNumber = 1, index + 1, 1
        ds.Manufacturer, ds.PatientPosition, ds.PositionReferenceIndicator = "", "HFS", ""
        ds.BodyPartExamined = "HEAD"
        ds.KVP = ""
        # Coronal: rows run left to right (+x), columns from head to feet (−z); slices step along +y.
        ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
        ds.ImagePositionPatient = [0.0, round(index * spacing[2], 4), 0.0]
        ds.PixelSpacing = [round(spacing[1], 7), round(spacing[0], 7)]
        ds.SliceThickness = round(spacing[2], 4)
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.PixelData = np.ascontiguousarray(volume[index]).tobytes()
        ds.save_as(out / f"{index + 1:04d}.dcm", enforce_file_format=True)
    return slices


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", type=Path, default=PROJECT)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    volume, spacing, main_plist = read_project(args.project)
    count = write_series(volume, spacing, f"{main_plist.get('name', 'head CT')} (coronal)", args.out)
    print(f"{count} slices of {volume.shape[1]} x {volume.shape[2]} written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
