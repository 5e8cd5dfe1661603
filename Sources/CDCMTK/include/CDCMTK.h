// A small extern "C" API over DCMTK (dcmdata), used by DicomKit.
// Every call that can fail writes a human-readable reason into `error` (NUL-terminated,
// at most `errorLength` bytes) and returns a null pointer or a non-zero status.
#ifndef CDCMTK_H
#define CDCMTK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An owned DICOM file (meta header + dataset). Free with dk_file_free.
typedef struct dk_file dk_file;

/// The DCMTK version string, for example "3.6.7".
const char *dk_dcmtk_version(void);

/// Registers the JPEG, JPEG-LS and RLE decoders once per process.
void dk_register_codecs(void);

/// Reads a DICOM Part 10 file. Returns NULL and fills `error` on failure.
dk_file *dk_file_read(const char *path, char *error, size_t errorLength);

/// Parses a DICOM Part 10 file held in memory.
dk_file *dk_file_read_buffer(const uint8_t *bytes, size_t length, char *error, size_t errorLength);

/// Creates an empty file with a fresh meta header.
dk_file *dk_file_new(void);

void dk_file_free(dk_file *file);

/// Copies the string value of a top-level attribute (all values, backslash separated).
/// Returns 0 on success, 1 when the attribute is absent, 2 when `buffer` is too small.
int dk_get_string(const dk_file *file, uint16_t group, uint16_t element, char *buffer, size_t bufferLength);

/// Copies the string value of an attribute nested in sequences: `tags[0..depth-2]` are sequences,
/// entered at item `items[i]`; `tags[depth-1]` is the attribute. Same return codes as dk_get_string.
int dk_get_nested_string(const dk_file *file, const uint32_t *tags, const uint32_t *items, int depth, char *buffer,
                         size_t bufferLength);

/// Sets a top-level attribute from its string form (the VR comes from the data dictionary).
int dk_put_string(dk_file *file, uint16_t group, uint16_t element, const char *value, char *error, size_t errorLength);

/// Decompresses (if needed) and copies frame `frame` of the stored pixel values as int32,
/// honouring Bits Stored and Pixel Representation. `count` must be rows*columns.
int dk_get_frame(dk_file *file, uint32_t frame, int32_t *pixels, size_t count, char *error, size_t errorLength);

/// Sets 16-bit monochrome pixel data (Rows, Columns, frames, signed or not), uncompressed.
int dk_put_pixels16(dk_file *file, const uint16_t *pixels, size_t count, uint16_t rows, uint16_t columns,
                    uint32_t frames, int isSigned, char *error, size_t errorLength);

/// Writes the file as Explicit VR Little Endian, with the meta header.
int dk_file_save(dk_file *file, const char *path, char *error, size_t errorLength);

/// TLS for an association we open (PEM files). Empty `certificate`/`privateKey` send no client
/// certificate; `trustedCertificates` (one or more CA certificates) must verify the peer's.
typedef struct dk_tls {
    const char *certificate;
    const char *privateKey;
    const char *trustedCertificates;
} dk_tls;

/// Sends a C-ECHO (Verification) to a DICOM node, over TLS when `tls` is not NULL. Returns 0 when
/// the peer answered Success.
int dk_echo(const char *host, uint16_t port, const char *callingAE, const char *calledAE, const dk_tls *tls,
            int timeoutSeconds, char *error, size_t errorLength);

/// Called on a DCMTK worker thread for each received C-STORE: the instance has been written,
/// meta header included and bits unchanged, to `path`. Returns the DIMSE status to answer with
/// (0x0000 success; 0xA700 out of resources; 0xA900 data set does not match; 0xC000 cannot understand).
typedef uint16_t (*dk_store_handler)(void *context, const char *path, const char *callingAE);

/// A C-STORE SCP with a pool of worker threads (DCMTK DcmSCPPool) per port it listens on. One per
/// process.
typedef struct dk_storage_scp dk_storage_scp;

/// Creates the SCP, listening nowhere yet. `allowedCallingAEs` is a backslash-separated list; empty
/// accepts any caller. `sopClasses` is a backslash-separated list of accepted storage SOP Class UIDs.
dk_storage_scp *dk_storage_scp_new(const char *aeTitle, uint16_t maxAssociations, const char *allowedCallingAEs,
                                   const char *sopClasses, const char *tempDirectory, dk_store_handler handler,
                                   void *context);

/// Adds a port; over TLS when `tls` is not NULL (our certificate and key required, the caller's
/// certificate required and verified by `trustedCertificates`, BCP 195). Returns the port's index
/// for dk_storage_scp_listen, or -1 with a message.
int dk_storage_scp_add_port(dk_storage_scp *scp, uint16_t port, const dk_tls *tls, char *error, size_t errorLength);

/// Listens on the port with index `portIndex` until dk_storage_scp_stop is called (one thread per
/// port); returns 0 after a clean stop.
int dk_storage_scp_listen(dk_storage_scp *scp, int portIndex, char *error, size_t errorLength);

/// Asks every port to stop after the associations in progress.
void dk_storage_scp_stop(dk_storage_scp *scp);

void dk_storage_scp_free(dk_storage_scp *scp);

/// A DICOM Segmentation (BINARY, or FRACTIONAL PROBABILITY) being built with DCMTK's dcmseg.
typedef struct dk_seg_writer dk_seg_writer;

/// Starts a SEG of `rows` x `columns` frames. Equipment and content identification are required by the IOD.
/// `dimensionUID` is the Dimension Organization UID (derived by the caller, so output can be reproducible).
/// With `fractional` non-zero the SEG is FRACTIONAL (PROBABILITY, Maximum Fractional Value 255) and
/// frames carry 0...255 per pixel; otherwise BINARY with frames of 0 and 1.
dk_seg_writer *dk_seg_new(uint16_t rows, uint16_t columns, const char *manufacturer, const char *modelName,
                          const char *softwareVersion, const char *contentLabel, const char *contentDescription,
                          const char *creatorName, const char *dimensionUID, int fractional, char *error,
                          size_t errorLength);

/// Takes patient, study and frame of reference from a source image (Part 10 bytes); sets the new
/// series and instance UIDs, series number and description.
int dk_seg_set_identity(dk_seg_writer *writer, const uint8_t *sourceBytes, size_t sourceLength,
                        const char *seriesInstanceUID, const char *sopInstanceUID, const char *seriesDescription,
                        const char *seriesNumber, char *error, size_t errorLength);

/// Shared functional groups: plane orientation (6 values) and pixel measures (mm).
int dk_seg_set_geometry(dk_seg_writer *writer, const double *orientation, double rowSpacing, double columnSpacing,
                        double sliceThickness, char *error, size_t errorLength);

/// Adds a segment; codes are (value, scheme, meaning) triples, `modifier` (the type's, e.g. laterality) NULL for
/// none. Returns its number in `segmentNumber`.
int dk_seg_add_segment(dk_seg_writer *writer, const char *label, const char *const *category,
                       const char *const *type, const char *const *modifier, int semiautomatic, const char *algorithmName,
                       const char *algorithmVersion, const uint16_t *cielab, uint16_t *segmentNumber, char *error,
                       size_t errorLength);

/// Adds a source image to the Referenced Series Sequence (common instance reference).
int dk_seg_add_reference(dk_seg_writer *writer, const char *patientID, const char *studyUID, const char *seriesUID,
                         const char *sopClassUID, const char *sopInstanceUID, char *error, size_t errorLength);

/// Adds one frame: the mask of `segmentNumber` on the slice at `position`, derived from one source image.
int dk_seg_add_frame(dk_seg_writer *writer, const uint8_t *mask, uint16_t segmentNumber, const double *position,
                     uint32_t positionIndex, const char *sourceSOPClassUID, const char *sourceSOPInstanceUID,
                     char *error, size_t errorLength);

/// Writes the SEG as Explicit VR Little Endian. Empty `contentDate`/`contentTime` mean now.
int dk_seg_save(dk_seg_writer *writer, const char *path, const char *contentDate, const char *contentTime, char *error,
                size_t errorLength);

void dk_seg_free(dk_seg_writer *writer);

/// Sends one file by C-STORE, over TLS when `tls` is not NULL. Returns 0 when the association
/// worked and fills `status` with the DIMSE status of the response; non-zero (with `error`) when
/// the association or transfer failed.
int dk_store_file(const char *host, uint16_t port, const char *callingAE, const char *calledAE, const dk_tls *tls,
                  const char *path, int timeoutSeconds, uint16_t *status, char *error, size_t errorLength);

/// Frees a buffer the shim allocated (DICOM JSON, pixel bytes, C-FIND results).
void dk_buffer_free(void *buffer);

/// The file's dataset as DICOM JSON (PS3.18 F.2), one object. Pixel data elements become
/// BulkDataURIs `bulkDataPrefix` + the tag as 8 hex digits (inline when the prefix is empty).
/// The text is malloc'd into `json`; free it with dk_buffer_free.
int dk_file_json(dk_file *file, const char *bulkDataPrefix, char **json, size_t *length, char *error,
                 size_t errorLength);

/// The Pixel Data value in native form (decompressed, little endian), malloc'd into `bytes`; free
/// it with dk_buffer_free. Frames follow one another (bit-packed when Bits Allocated is 1).
int dk_pixel_bytes(dk_file *file, uint8_t **bytes, size_t *length, char *error, size_t errorLength);

/// Sends a Study Root C-FIND with the identifier `tags[i]` = `values[i]` (0xggggeeee; an empty value
/// asks for the attribute back). The matches are a DICOM JSON array, malloc'd into `json`.
int dk_find(const char *host, uint16_t port, const char *callingAE, const char *calledAE, const dk_tls *tls,
            int timeoutSeconds, const uint32_t *tags, const char *const *values, int count, char **json,
            size_t *length, char *error, size_t errorLength);

/// The final C-MOVE response: its status and sub-operation counts.
typedef struct dk_move_result {
    uint16_t status;
    uint16_t completed;
    uint16_t failed;
    uint16_t warning;
} dk_move_result;

/// Sends a Study Root C-MOVE of the identifier to the AE `destination`, waiting for the final
/// response. Returns non-zero when the association or the DIMSE exchange failed.
int dk_move(const char *host, uint16_t port, const char *callingAE, const char *calledAE, const dk_tls *tls,
            int timeoutSeconds, const char *destination, const uint32_t *tags, const char *const *values, int count,
            dk_move_result *result, char *error, size_t errorLength);

#ifdef __cplusplus
}
#endif

#endif
