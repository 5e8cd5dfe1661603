// DICOM Segmentation writing (dcmseg, dcmfg, dcmiod).
#include "CDCMTK.h"
#include "internal.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>

#include <cstdio>
#include <memory>
#include <string>

namespace {

using dk::check;
using dk::fail;

std::string decimal(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6f", value);
    std::string text(buffer);
    while (text.find('.') != std::string::npos && text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
    return text.substr(0, 16);
}

}  // namespace

struct dk_seg_writer {
    std::unique_ptr<DcmSegmentation> segmentation;
    IODReferences references;
    OFString dimensionUID;
};

extern "C" {

dk_seg_writer *dk_seg_new(uint16_t rows, uint16_t columns, const char *manufacturer, const char *modelName,
                          const char *softwareVersion, const char *contentLabel, const char *contentDescription,
                          const char *creatorName, const char *dimensionUID, int fractional, char *error,
                          size_t errorLength) {
    IODGeneralEquipmentModule::EquipmentInfo equipment(manufacturer, modelName, "1", softwareVersion);
    ContentIdentificationMacro identification("1", contentLabel, contentDescription, creatorName);
    DcmSegmentation *created = nullptr;
    const Uint16 maximumFraction = 255;
    OFCondition status =
        fractional ? DcmSegmentation::createFractionalSegmentation(created, rows, columns, DcmSegTypes::SFT_PROBABILITY,
                                                                   maximumFraction, equipment, identification)
                   : DcmSegmentation::createBinarySegmentation(created, rows, columns, equipment, identification);
    if (status.bad() || created == nullptr) {
        fail(error, errorLength, std::string("cannot create the segmentation: ") + status.text());
        return nullptr;
    }
    auto *writer = new dk_seg_writer();
    writer->segmentation.reset(created);
    char generated[100];
    writer->dimensionUID = dimensionUID[0] != '\0' ? OFString(dimensionUID)
                                                   : OFString(dcmGenerateUniqueIdentifier(generated, SITE_INSTANCE_UID_ROOT));
    IODMultiframeDimensionModule &dimensions = created->getDimensions();
    dimensions.addDimensionIndex(DCM_ReferencedSegmentNumber, writer->dimensionUID, DCM_SegmentIdentificationSequence,
                                 "ReferencedSegmentNumber");
    dimensions.addDimensionIndex(DCM_ImagePositionPatient, writer->dimensionUID, DCM_PlanePositionSequence,
                                 "ImagePositionPatient");
    return writer;
}

int dk_seg_set_identity(dk_seg_writer *writer, const uint8_t *sourceBytes, size_t sourceLength,
                        const char *seriesInstanceUID, const char *sopInstanceUID, const char *seriesDescription,
                        const char *seriesNumber, char *error, size_t errorLength) {
    DcmInputBufferStream stream;
    stream.setBuffer(sourceBytes, static_cast<offile_off_t>(sourceLength));
    stream.setEos();
    DcmFileFormat source;
    source.transferInit();
    OFCondition status = source.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    source.transferEnd();
    if (check(status, "cannot read the source image", error, errorLength)) return 1;
    DcmSegmentation &seg = *writer->segmentation;
    if (check(seg.importFromSourceImage(*source.getDataset()), "cannot import patient/study", error, errorLength))
        return 1;
    seg.getSeries().setSeriesInstanceUID(seriesInstanceUID);
    seg.getSeries().setSeriesDescription(seriesDescription);
    seg.getSeries().setSeriesNumber(seriesNumber);
    seg.getSOPCommon().setSOPInstanceUID(sopInstanceUID);
    return 0;
}

int dk_seg_set_geometry(dk_seg_writer *writer, const double *orientation, double rowSpacing, double columnSpacing,
                        double sliceThickness, char *error, size_t errorLength) {
    DcmSegmentation &seg = *writer->segmentation;
    std::unique_ptr<FGPlaneOrientationPatient> plane(FGPlaneOrientationPatient::createMinimal(
        decimal(orientation[0]).c_str(), decimal(orientation[1]).c_str(), decimal(orientation[2]).c_str(),
        decimal(orientation[3]).c_str(), decimal(orientation[4]).c_str(), decimal(orientation[5]).c_str()));
    if (!plane) return fail(error, errorLength, "cannot create the plane orientation");
    FGPixelMeasures measures;
    measures.setPixelSpacing((decimal(rowSpacing) + "\\" + decimal(columnSpacing)).c_str());
    measures.setSliceThickness(decimal(sliceThickness).c_str());
    measures.setSpacingBetweenSlices(decimal(sliceThickness).c_str());
    if (check(seg.addForAllFrames(*plane), "plane orientation", error, errorLength)) return 1;
    return check(seg.addForAllFrames(measures), "pixel measures", error, errorLength);
}

int dk_seg_add_segment(dk_seg_writer *writer, const char *label, const char *const *category,
                       const char *const *type, const char *const *modifier, int semiautomatic, const char *algorithmName,
                       const char *algorithmVersion, const uint16_t *cielab, uint16_t *segmentNumber, char *error,
                       size_t errorLength) {
    DcmSegment *segment = nullptr;
    const auto algorithmType = semiautomatic ? DcmSegTypes::SAT_SEMIAUTOMATIC : DcmSegTypes::SAT_AUTOMATIC;
    OFCondition status = DcmSegment::create(segment, label, CodeSequenceMacro(category[0], category[1], category[2]),
                                            CodeSequenceMacro(type[0], type[1], type[2]), algorithmType, algorithmName);
    if (check(status, "cannot create the segment", error, errorLength)) return 1;
    if (modifier)
        segment->getSegmentedPropertyTypeModifierCode().push_back(
            new CodeSequenceMacro(modifier[0], modifier[1], modifier[2]));
    AlgorithmIdentificationMacro &algorithm = segment->getSegmentationAlgorithmIdentification();
    algorithm.getAlgorithmFamilyCode().set("123109", "DCM", "Manual Processing");
    algorithm.setAlgorithmName(algorithmName);
    algorithm.setAlgorithmVersion(algorithmVersion);
    segment->setRecommendedDisplayCIELabValue(cielab[0], cielab[1], cielab[2]);
    Uint16 number = 0;
    status = writer->segmentation->addSegment(segment, number);
    if (status.bad()) {
        delete segment;
        return check(status, "cannot add the segment", error, errorLength);
    }
    *segmentNumber = number;
    return 0;
}

int dk_seg_add_reference(dk_seg_writer *writer, const char *patientID, const char *studyUID, const char *seriesUID,
                         const char *sopClassUID, const char *sopInstanceUID, char *error, size_t errorLength) {
    auto *reference = new IODImageReference(patientID, studyUID, seriesUID, sopInstanceUID, sopClassUID);
    if (!writer->references.add(reference)) {
        delete reference;
        return fail(error, errorLength, "cannot add the source image reference");
    }
    return 0;
}

int dk_seg_add_frame(dk_seg_writer *writer, const uint8_t *mask, uint16_t segmentNumber, const double *position,
                     uint32_t positionIndex, const char *sourceSOPClassUID, const char *sourceSOPInstanceUID,
                     char *error, size_t errorLength) {
    std::unique_ptr<FGPlanePosPatient> plane(FGPlanePosPatient::createMinimal(
        decimal(position[0]).c_str(), decimal(position[1]).c_str(), decimal(position[2]).c_str()));
    FGFrameContent content;
    content.setDimensionIndexValues(segmentNumber, 0);
    content.setDimensionIndexValues(positionIndex, 1);
    FGDerivationImage derivation;
    DerivationImageItem *item = nullptr;
    if (check(derivation.addDerivationImageItem(CodeSequenceMacro("113076", "DCM", "Segmentation"), "", item),
              "derivation image", error, errorLength))
        return 1;
    SourceImageItem *source = new SourceImageItem();
    source->getPurposeOfReferenceCode().set("121322", "DCM", "Source image for image processing operation");
    ImageSOPInstanceReferenceMacro &reference = source->getImageSOPInstanceReference();
    OFCondition status = reference.setReferencedSOPClassUID(sourceSOPClassUID);
    if (status.good()) status = reference.setReferencedSOPInstanceUID(sourceSOPInstanceUID);
    if (status.bad()) {
        delete source;
        return check(status, "source image reference", error, errorLength);
    }
    item->getSourceImageItems().push_back(source);
    OFVector<FGBase *> groups;
    groups.push_back(plane.get());
    groups.push_back(&content);
    groups.push_back(&derivation);
    return check(writer->segmentation->addFrame(const_cast<Uint8 *>(mask), segmentNumber, groups), "cannot add the frame",
                 error, errorLength);
}

int dk_seg_save(dk_seg_writer *writer, const char *path, const char *contentDate, const char *contentTime, char *error,
                size_t errorLength) {
    DcmSegmentation &seg = *writer->segmentation;
    seg.getCommonInstanceReference().addReferences(writer->references);
    DcmFileFormat file;
    DcmDataset &dataset = *file.getDataset();
    if (check(seg.writeDataset(dataset), "cannot build the segmentation", error, errorLength)) return 1;
    // Each frame is the source slice's grid: say so (Spatial Locations Preserved), as readers such as
    // highdicom require before they map frames onto source images. dcmfg 3.6.7 has no setter for it.
    DcmSequenceOfItems *frames = nullptr;
    if (dataset.findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, frames).good() && frames != nullptr) {
        for (unsigned long f = 0; f < frames->card(); ++f) {
            DcmItem *derivation = nullptr;
            for (signed long d = 0; frames->getItem(f)->findAndGetSequenceItem(DCM_DerivationImageSequence, derivation, d).good(); ++d) {
                DcmItem *source = nullptr;
                for (signed long i = 0; derivation->findAndGetSequenceItem(DCM_SourceImageSequence, source, i).good(); ++i) {
                    source->putAndInsertString(DCM_SpatialLocationsPreserved, "YES");
                }
            }
        }
    }
    if (contentDate[0] != '\0') {
        dataset.putAndInsertString(DCM_ContentDate, contentDate);
        dataset.putAndInsertString(DCM_SeriesDate, contentDate);
        dataset.putAndInsertString(DCM_InstanceCreationDate, contentDate);
    }
    if (contentTime[0] != '\0') {
        dataset.putAndInsertString(DCM_ContentTime, contentTime);
        dataset.putAndInsertString(DCM_SeriesTime, contentTime);
        dataset.putAndInsertString(DCM_InstanceCreationTime, contentTime);
    }
    return check(file.saveFile(path, EXS_LittleEndianExplicit), "cannot write the segmentation", error, errorLength);
}

void dk_seg_free(dk_seg_writer *writer) { delete writer; }

}  // extern "C"
