// Helpers shared by the shim's C++ files (not part of the public C API).
#ifndef CDCMTK_INTERNAL_H
#define CDCMTK_INTERNAL_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <cstdio>
#include <string>

namespace dk {

/// Writes `message` into the caller's error buffer; returns 1 (the shim's failure code).
inline int fail(char *error, size_t length, const std::string &message) {
    if (error != nullptr && length > 0) std::snprintf(error, length, "%s", message.c_str());
    return 1;
}

/// 0 when `status` is good, otherwise fails with "what: reason".
inline int check(const OFCondition &status, const char *what, char *error, size_t length) {
    return status.good() ? 0 : fail(error, length, std::string(what) + ": " + status.text());
}

/// Opens an association from `callingAE` to `calledAE` at host:port proposing `sopClass` in
/// Explicit and Implicit VR Little Endian, with the same timeout for connect, ACSE and DIMSE.
inline int openAssociation(DcmSCU &scu, const char *host, uint16_t port, const char *callingAE, const char *calledAE,
                           int timeoutSeconds, const char *sopClass, char *error, size_t length) {
    scu.setAETitle(callingAE);
    scu.setPeerHostName(host);
    scu.setPeerPort(port);
    scu.setPeerAETitle(calledAE);
    scu.setConnectionTimeout(timeoutSeconds);
    scu.setACSETimeout(static_cast<Uint32>(timeoutSeconds));
    scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scu.setDIMSETimeout(static_cast<Uint32>(timeoutSeconds));
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu.addPresentationContext(sopClass, syntaxes);
    if (check(scu.initNetwork(), "network", error, length)) return 1;
    return check(scu.negotiateAssociation(), "association", error, length);
}

}  // namespace dk

#endif
