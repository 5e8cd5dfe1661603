#include "CDCMTK.h"
#include "internal.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrus.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

namespace {

void setError(char *error, size_t length, const std::string &message) { dk::fail(error, length, message); }

void quietLogging() {
    static std::once_flag once;
    std::call_once(once, [] { OFLog::configure(OFLogger::OFF_LOG_LEVEL); });
}

}  // namespace

extern "C" {

const char *dk_dcmtk_version(void) { return OFFIS_DCMTK_VERSION_STRING; }

void dk_register_codecs(void) {
    static std::once_flag once;
    std::call_once(once, [] {
        quietLogging();
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

dk_file *dk_file_read(const char *path, char *error, size_t errorLength) {
    quietLogging();
    if (!dcmDataDict.isDictionaryLoaded()) {
        setError(error, errorLength, "the DICOM data dictionary is not loaded");
        return nullptr;
    }
    auto *file = new dk_file();
    OFCondition status = file->format.loadFile(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
    if (status.bad()) {
        setError(error, errorLength, status.text());
        delete file;
        return nullptr;
    }
    return file;
}

dk_file *dk_file_read_buffer(const uint8_t *bytes, size_t length, char *error, size_t errorLength) {
    quietLogging();
    DcmInputBufferStream stream;
    stream.setBuffer(bytes, static_cast<offile_off_t>(length));
    stream.setEos();
    auto *file = new dk_file();
    file->format.transferInit();
    OFCondition status = file->format.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file->format.transferEnd();
    if (status.bad()) {
        setError(error, errorLength, status.text());
        delete file;
        return nullptr;
    }
    return file;
}

dk_file *dk_file_new(void) {
    quietLogging();
    return new dk_file();
}

void dk_file_free(dk_file *file) { delete file; }

int dk_get_string(const dk_file *file, uint16_t group, uint16_t element, char *buffer, size_t bufferLength) {
    OFString value;
    DcmDataset *dataset = const_cast<dk_file *>(file)->format.getDataset();
    if (dataset->findAndGetOFStringArray(DcmTagKey(group, element), value).bad()) {
        DcmMetaInfo *meta = const_cast<dk_file *>(file)->format.getMetaInfo();
        if (meta->findAndGetOFStringArray(DcmTagKey(group, element), value).bad()) return 1;
    }
    if (value.length() + 1 > bufferLength) return 2;
    std::memcpy(buffer, value.c_str(), value.length() + 1);
    return 0;
}

int dk_get_nested_string(const dk_file *file, const uint32_t *tags, const uint32_t *items, int depth, char *buffer,
                         size_t bufferLength) {
    if (depth < 1) return 1;
    DcmItem *item = const_cast<dk_file *>(file)->format.getDataset();
    for (int level = 0; level + 1 < depth; ++level) {
        DcmItem *next = nullptr;
        DcmTagKey key(static_cast<Uint16>(tags[level] >> 16), static_cast<Uint16>(tags[level] & 0xFFFF));
        if (item->findAndGetSequenceItem(key, next, static_cast<signed long>(items[level])).bad() || next == nullptr)
            return 1;
        item = next;
    }
    OFString value;
    DcmTagKey key(static_cast<Uint16>(tags[depth - 1] >> 16), static_cast<Uint16>(tags[depth - 1] & 0xFFFF));
    if (item->findAndGetOFStringArray(key, value).bad()) return 1;
    if (value.length() + 1 > bufferLength) return 2;
    std::memcpy(buffer, value.c_str(), value.length() + 1);
    return 0;
}

int dk_put_string(dk_file *file, uint16_t group, uint16_t element, const char *value, char *error, size_t errorLength) {
    OFCondition status = file->format.getDataset()->putAndInsertString(DcmTagKey(group, element), value);
    if (status.bad()) {
        setError(error, errorLength, status.text());
        return 1;
    }
    return 0;
}

int dk_get_frame(dk_file *file, uint32_t frame, int32_t *pixels, size_t count, char *error, size_t errorLength) {
    DcmDataset *dataset = file->format.getDataset();
    if (dataset->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
        !dataset->canWriteXfer(EXS_LittleEndianExplicit)) {
        setError(error, errorLength, "cannot decompress pixel data in this transfer syntax");
        return 1;
    }
    Uint16 rows = 0, columns = 0, bitsAllocated = 0, bitsStored = 0, representation = 0, samples = 1;
    dataset->findAndGetUint16(DCM_Rows, rows);
    dataset->findAndGetUint16(DCM_Columns, columns);
    dataset->findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
    dataset->findAndGetUint16(DCM_BitsStored, bitsStored);
    dataset->findAndGetUint16(DCM_PixelRepresentation, representation);
    dataset->findAndGetUint16(DCM_SamplesPerPixel, samples);
    if (samples != 1) {
        setError(error, errorLength, "only monochrome images (Samples per Pixel 1) are supported");
        return 1;
    }
    const size_t frameSize = static_cast<size_t>(rows) * columns;
    if (frameSize == 0 || frameSize != count) {
        setError(error, errorLength, "Rows x Columns does not match the requested frame size");
        return 1;
    }
    if (bitsStored == 0 || bitsStored > bitsAllocated) bitsStored = bitsAllocated;
    DcmElement *element = nullptr;
    if (dataset->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
        setError(error, errorLength, "Pixel Data is missing");
        return 1;
    }
    const unsigned long bytesPerPixel = bitsAllocated / 8;
    if (bitsAllocated != 8 && bitsAllocated != 16 && bitsAllocated != 32) {
        setError(error, errorLength, "Bits Allocated must be 8, 16 or 32");
        return 1;
    }
    Uint8 *raw = nullptr;
    if (element->getUint8Array(raw).bad() || raw == nullptr) {
        setError(error, errorLength, "Pixel Data cannot be read");
        return 1;
    }
    const size_t needed = (static_cast<size_t>(frame) + 1) * frameSize * bytesPerPixel;
    if (element->getLength() < needed) {
        setError(error, errorLength, "Pixel Data is shorter than Rows x Columns x Number of Frames");
        return 1;
    }
    const Uint8 *start = raw + static_cast<size_t>(frame) * frameSize * bytesPerPixel;
    const uint32_t mask = bitsStored >= 32 ? 0xFFFFFFFFu : ((1u << bitsStored) - 1u);
    const uint32_t signBit = bitsStored >= 32 ? 0x80000000u : (1u << (bitsStored - 1));
    for (size_t i = 0; i < frameSize; ++i) {
        uint32_t value = 0;
        if (bytesPerPixel == 1) value = start[i];
        else if (bytesPerPixel == 2) { Uint16 v; std::memcpy(&v, start + 2 * i, 2); value = v; }
        else { Uint32 v; std::memcpy(&v, start + 4 * i, 4); value = v; }
        value &= mask;
        int64_t result = value;
        if (representation == 1 && (value & signBit)) result = static_cast<int64_t>(value) - (static_cast<int64_t>(mask) + 1);
        pixels[i] = static_cast<int32_t>(result);
    }
    return 0;
}

int dk_put_pixels16(dk_file *file, const uint16_t *pixels, size_t count, uint16_t rows, uint16_t columns,
                    uint32_t frames, int isSigned, char *error, size_t errorLength) {
    if (count != static_cast<size_t>(rows) * columns * frames) {
        setError(error, errorLength, "pixel count does not match Rows x Columns x frames");
        return 1;
    }
    DcmDataset *dataset = file->format.getDataset();
    dataset->putAndInsertUint16(DCM_Rows, rows);
    dataset->putAndInsertUint16(DCM_Columns, columns);
    dataset->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    dataset->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    dataset->putAndInsertUint16(DCM_BitsAllocated, 16);
    dataset->putAndInsertUint16(DCM_BitsStored, 16);
    dataset->putAndInsertUint16(DCM_HighBit, 15);
    dataset->putAndInsertUint16(DCM_PixelRepresentation, isSigned ? 1 : 0);
    if (frames > 1) dataset->putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
    OFCondition status = dataset->putAndInsertUint16Array(DCM_PixelData, pixels, static_cast<unsigned long>(count));
    if (status.bad()) {
        setError(error, errorLength, status.text());
        return 1;
    }
    return 0;
}

int dk_file_save(dk_file *file, const char *path, char *error, size_t errorLength) {
    OFCondition status = file->format.saveFile(path, EXS_LittleEndianExplicit);
    if (status.bad()) {
        setError(error, errorLength, status.text());
        return 1;
    }
    return 0;
}

}  // extern "C"
