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

/// Sends a C-ECHO (Verification) to a DICOM node. Returns 0 when the peer answered Success.
int dk_echo(const char *host, uint16_t port, const char *callingAE, const char *calledAE, int timeoutSeconds,
            char *error, size_t errorLength);

/// Called on a DCMTK worker thread for each received C-STORE: the instance has been written,
/// meta header included and bits unchanged, to `path`. Returns the DIMSE status to answer with
/// (0x0000 success; 0xA700 out of resources; 0xA900 data set does not match; 0xC000 cannot understand).
typedef uint16_t (*dk_store_handler)(void *context, const char *path, const char *callingAE);

/// A C-STORE SCP with a pool of worker threads (DCMTK DcmSCPPool). One per process.
typedef struct dk_storage_scp dk_storage_scp;

/// Creates the SCP. `allowedCallingAEs` is a backslash-separated list; empty accepts any caller.
/// `sopClasses` is a backslash-separated list of accepted storage SOP Class UIDs.
dk_storage_scp *dk_storage_scp_new(const char *aeTitle, uint16_t port, uint16_t maxAssociations,
                                   const char *allowedCallingAEs, const char *sopClasses, const char *tempDirectory,
                                   dk_store_handler handler, void *context);

/// Listens until dk_storage_scp_stop is called; returns 0 after a clean stop.
int dk_storage_scp_listen(dk_storage_scp *scp, char *error, size_t errorLength);

/// Asks the SCP to stop after the associations in progress.
void dk_storage_scp_stop(dk_storage_scp *scp);

void dk_storage_scp_free(dk_storage_scp *scp);

#ifdef __cplusplus
}
#endif

#endif
