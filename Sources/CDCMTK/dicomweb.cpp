// What DICOMweb needs from a stored file: its dataset as DICOM JSON (PS3.18 F.2) with bulk data
// by reference, and its pixel data as native (uncompressed, little endian) bytes.
#include "CDCMTK.h"
#include "internal.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcjson.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

namespace {

/// Compact DICOM JSON in which the pixel data elements are BulkDataURIs under `prefix`.
struct BulkDataJsonFormat : public DcmJsonFormatCompact {
    std::string prefix;

    explicit BulkDataJsonFormat(const char *bulkDataPrefix)
        : DcmJsonFormatCompact(OFFalse), prefix(bulkDataPrefix == nullptr ? "" : bulkDataPrefix) {}

    OFBool asBulkDataURI(const DcmTagKey &tag, OFString &uri) override {
        if (prefix.empty()) return OFFalse;
        if (tag != DCM_PixelData && tag != DCM_FloatPixelData && tag != DCM_DoubleFloatPixelData) return OFFalse;
        char hex[9];
        std::snprintf(hex, sizeof hex, "%04X%04X", tag.getGroup(), tag.getElement());
        uri = (prefix + hex).c_str();
        return OFTrue;
    }
};

/// Copies `text` into a malloc'd buffer the caller frees with dk_buffer_free.
void handOver(const std::string &text, char **out, size_t *length) {
    *out = static_cast<char *>(std::malloc(text.size() + 1));
    std::memcpy(*out, text.c_str(), text.size() + 1);
    *length = text.size();
}

}  // namespace

extern "C" {

void dk_buffer_free(void *buffer) { std::free(buffer); }

int dk_file_json(dk_file *file, const char *bulkDataPrefix, char **json, size_t *length, char *error,
                 size_t errorLength) {
    BulkDataJsonFormat format(bulkDataPrefix);
    std::ostringstream stream;
    // DcmDataset::writeJson writes the members only; the object's braces are the caller's.
    stream << "{";
    DcmDataset *dataset = file->format.getDataset();
    if (dk::check(dataset->writeJson(stream, format), "DICOM JSON", error, errorLength)) return 1;
    stream << "}";
    handOver(stream.str(), json, length);
    return 0;
}

int dk_pixel_bytes(dk_file *file, uint8_t **bytes, size_t *length, char *error, size_t errorLength) {
    dk_register_codecs();
    DcmDataset *dataset = file->format.getDataset();
    if (dataset->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
        !dataset->canWriteXfer(EXS_LittleEndianExplicit))
        return dk::fail(error, errorLength, "cannot decompress pixel data in this transfer syntax");
    DcmElement *element = nullptr;
    if (dataset->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr)
        return dk::fail(error, errorLength, "Pixel Data is missing");
    Uint8 *raw = nullptr;
    if (element->getUint8Array(raw).bad() || raw == nullptr)
        return dk::fail(error, errorLength, "Pixel Data cannot be read");
    *length = element->getLength();
    *bytes = static_cast<uint8_t *>(std::malloc(*length == 0 ? 1 : *length));
    std::memcpy(*bytes, raw, *length);
    return 0;
}

}  // extern "C"
