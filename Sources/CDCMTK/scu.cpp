// The associations we open (DCMTK DcmSCU, over TLS where configured): C-ECHO, C-STORE of one file,
// and C-FIND and C-MOVE as a Study Root Query/Retrieve SCU to pull studies from a PACS.
#include "CDCMTK.h"
#include "internal.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcjson.h>
#include <dcmtk/dcmnet/scu.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

namespace {

/// The query identifier: each tag with its value (an empty value asks for the attribute back).
int identifier(DcmDataset &dataset, const uint32_t *tags, const char *const *values, int count, char *error,
               size_t errorLength) {
    for (int index = 0; index < count; ++index) {
        DcmTagKey key(static_cast<Uint16>(tags[index] >> 16), static_cast<Uint16>(tags[index] & 0xFFFF));
        if (dk::check(dataset.putAndInsertString(key, values[index]), "query key", error, errorLength)) return 1;
    }
    return 0;
}

/// The presentation context the peer accepted for `sopClass` (in `transferSyntax`; empty: any),
/// or 0 with the association released and `error` filled.
T_ASC_PresentationContextID acceptedContext(DcmSCU &scu, const char *sopClass, const char *transferSyntax,
                                            char *error, size_t errorLength) {
    T_ASC_PresentationContextID context = scu.findAnyPresentationContextID(sopClass, transferSyntax);
    if (context == 0) {
        scu.releaseAssociation();
        dk::fail(error, errorLength, std::string("the peer accepted no presentation context for ") + sopClass);
    }
    return context;
}

/// One Study Root exchange: builds the identifier, opens an association for `sopClass`, calls
/// `send(scu, context, identifier)` and releases the association. Returns send's condition, or
/// non-zero with `error` filled when no exchange was possible.
template <typename Send>
int exchange(const char *host, uint16_t port, const char *callingAE, const char *calledAE, const dk_tls *tls,
             int timeoutSeconds, const char *sopClass, const uint32_t *tags, const char *const *values, int count,
             char *error, size_t errorLength, OFCondition &status, Send send) {
    DcmDataset query;
    if (identifier(query, tags, values, count, error, errorLength)) return 1;
    dk::Requestor requestor;
    if (dk::openAssociation(requestor, host, port, callingAE, calledAE, tls, timeoutSeconds, sopClass, error,
                            errorLength))
        return 1;
    T_ASC_PresentationContextID context = acceptedContext(requestor.scu, sopClass, "", error, errorLength);
    if (context == 0) return 1;
    status = send(requestor.scu, context, query);
    requestor.scu.releaseAssociation();
    return 0;
}

}  // namespace

extern "C" {

int dk_find(const char *host, uint16_t port, const char *callingAE, const char *calledAE, const dk_tls *tls,
            int timeoutSeconds, const uint32_t *tags, const char *const *values, int count, char **json,
            size_t *length, char *error, size_t errorLength) {
    OFList<QRResponse *> responses;
    OFCondition status;
    if (exchange(host, port, callingAE, calledAE, tls, timeoutSeconds, UID_FINDStudyRootQueryRetrieveInformationModel,
                 tags, values, count, error, errorLength, status,
                 [&](DcmSCU &scu, T_ASC_PresentationContextID context, DcmDataset &query) {
                     return scu.sendFINDRequest(context, &query, &responses);
                 }))
        return 1;
    std::ostringstream out;
    out << "[";
    bool first = true;
    int result = dk::check(status, "C-FIND", error, errorLength);
    for (QRResponse *response : responses) {
        if (result == 0 && response->m_dataset != nullptr && DICOM_PENDING_STATUS(response->m_status)) {
            DcmJsonFormatCompact format(OFFalse);
            if (!first) out << ",";
            first = false;
            out << "{";
            response->m_dataset->writeJson(out, format);
            out << "}";
        } else if (result == 0 && response->m_status != STATUS_Success && !DICOM_PENDING_STATUS(response->m_status)) {
            char text[64];
            std::snprintf(text, sizeof text, "C-FIND answered status 0x%04X", response->m_status);
            result = dk::fail(error, errorLength, text);
        }
        delete response;
    }
    if (result != 0) return 1;
    out << "]";
    const std::string text = out.str();
    *json = static_cast<char *>(std::malloc(text.size() + 1));
    std::memcpy(*json, text.c_str(), text.size() + 1);
    *length = text.size();
    return 0;
}

int dk_move(const char *host, uint16_t port, const char *callingAE, const char *calledAE, const dk_tls *tls,
            int timeoutSeconds, const char *destination, const uint32_t *tags, const char *const *values, int count,
            dk_move_result *result, char *error, size_t errorLength) {
    OFList<RetrieveResponse *> responses;
    OFCondition status;
    if (exchange(host, port, callingAE, calledAE, tls, timeoutSeconds, UID_MOVEStudyRootQueryRetrieveInformationModel,
                 tags, values, count, error, errorLength, status,
                 [&](DcmSCU &scu, T_ASC_PresentationContextID context, DcmDataset &query) {
                     return scu.sendMOVERequest(context, destination, &query, &responses);
                 }))
        return 1;
    *result = dk_move_result{};
    if (!responses.empty()) {
        RetrieveResponse *last = responses.back();
        result->status = last->m_status;
        result->completed = last->m_numberOfCompletedSubops;
        result->failed = last->m_numberOfFailedSubops;
        result->warning = last->m_numberOfWarningSubops;
    }
    for (RetrieveResponse *response : responses) delete response;
    return dk::check(status, "C-MOVE", error, errorLength);
}

int dk_echo(const char *host, uint16_t port, const char *callingAE, const char *calledAE, const dk_tls *tls,
            int timeoutSeconds, char *error, size_t errorLength) {
    dk_register_codecs();
    dk::Requestor requestor;
    if (dk::openAssociation(requestor, host, port, callingAE, calledAE, tls, timeoutSeconds, UID_VerificationSOPClass,
                            error, errorLength))
        return 1;
    OFCondition status = requestor.scu.sendECHORequest(0);
    requestor.scu.releaseAssociation();
    return dk::check(status, "C-ECHO", error, errorLength);
}

int dk_store_file(const char *host, uint16_t port, const char *callingAE, const char *calledAE, const dk_tls *tls,
                  const char *path, int timeoutSeconds, uint16_t *status, char *error, size_t errorLength) {
    dk_register_codecs();
    DcmFileFormat file;
    if (dk::check(file.loadFile(path), "cannot read the file to send", error, errorLength)) return 1;
    OFString sopClass;
    file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sopClass);
    dk::Requestor requestor;
    DcmSCU &scu = requestor.scu;
    if (dk::openAssociation(requestor, host, port, callingAE, calledAE, tls, timeoutSeconds, sopClass.c_str(), error,
                            errorLength))
        return 1;
    T_ASC_PresentationContextID context =
        acceptedContext(scu, sopClass.c_str(), UID_LittleEndianExplicitTransferSyntax, error, errorLength);
    if (context == 0) return 1;
    Uint16 response = 0;
    OFCondition sent = scu.sendSTORERequest(context, path, nullptr, response);
    scu.releaseAssociation();
    if (dk::check(sent, "C-STORE", error, errorLength)) return 1;
    *status = response;
    return 0;
}

}  // extern "C"
