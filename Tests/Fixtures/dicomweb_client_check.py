"""Reads a study from Delineate's DICOMweb server with dicomweb-client (PyPI; the Python client of
the DICOMweb ecosystem highdicom belongs to): QIDO-RS searches, series metadata, an instance, a
frame compared with pydicom's decoding of that instance, and the SEG read by highdicom.
Prints a JSON report.

usage: dicomweb_client_check.py BASE_URL USER PASSWORD PATIENT_ID
"""
import json
import sys

import highdicom
import numpy
import requests
from dicomweb_client.api import DICOMwebClient


def main() -> int:
    base, user, password, patient_id = sys.argv[1:5]
    session = requests.Session()
    session.auth = (user, password)
    client = DICOMwebClient(url=base, session=session)
    studies = client.search_for_studies(search_filters={"PatientID": patient_id})
    study = studies[0]["0020000D"]["Value"][0]
    series = {s["00080060"]["Value"][0]: s["0020000E"]["Value"][0] for s in client.search_for_series(study)}
    metadata = client.retrieve_series_metadata(study, series["CT"])
    sop = metadata[0]["00080018"]["Value"][0]
    instance = client.retrieve_instance(study, series["CT"], sop)
    frames = client.retrieve_instance_frames(study, series["CT"], sop, frame_numbers=[1],
                                             media_types=("application/octet-stream",))
    dtype = numpy.int16 if instance.PixelRepresentation == 1 else numpy.uint16
    frame = numpy.frombuffer(frames[0], dtype="<" + numpy.dtype(dtype).str[1:]).reshape(instance.Rows, instance.Columns)
    segs = client.search_for_instances(study, series["SEG"])
    seg_uid = segs[0]["00080018"]["Value"][0]
    seg = highdicom.seg.Segmentation.from_dataset(client.retrieve_instance(study, series["SEG"], seg_uid))
    print(json.dumps({
        "studies": len(studies), "modalities": sorted(series), "metadata": len(metadata),
        "frameMatches": bool(numpy.array_equal(frame, instance.pixel_array)),
        "segments": [seg.get_segment_description(n).SegmentLabel for n in seg.segment_numbers],
        "segSource": seg.get_source_image_uids()[0][1],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
