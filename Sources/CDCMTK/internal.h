// Helpers shared by the shim's C++ files (not part of the public C API).
#ifndef CDCMTK_INTERNAL_H
#define CDCMTK_INTERNAL_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <cstdio>
#include <memory>
#include <string>

#include "CDCMTK.h"

/// The file behind the opaque C handle.
struct dk_file {
    DcmFileFormat format;
};

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

/// DcmSCU with its (protected in DCMTK 3.6.7) switch to a TLS transport layer made public.
struct SCU : public DcmSCU {
    using DcmSCU::useSecureConnection;
};

/// An SCU with the TLS layer it may use; the layer is declared first so it outlives the SCU's network.
struct Requestor {
    std::unique_ptr<DcmTLSTransportLayer> tls;
    SCU scu;
};

/// Configures a TLS layer: our certificate and key when given, the trusted CA certificates, the
/// peer's certificate required and verified, the BCP 195 profile.
inline int configureTLS(DcmTLSTransportLayer &layer, const dk_tls &settings, char *error, size_t length) {
    if (settings.privateKey != nullptr && settings.privateKey[0] != '\0') {
        if (check(layer.setPrivateKeyFile(settings.privateKey, DCF_Filetype_PEM), "TLS private key", error, length))
            return 1;
        if (check(layer.setCertificateFile(settings.certificate, DCF_Filetype_PEM), "TLS certificate", error, length))
            return 1;
        if (!layer.checkPrivateKeyMatchesCertificate())
            return fail(error, length, "TLS: the private key does not match the certificate");
    }
    if (settings.trustedCertificates != nullptr && settings.trustedCertificates[0] != '\0' &&
        check(layer.addTrustedCertificateFile(settings.trustedCertificates, DCF_Filetype_PEM),
              "TLS trusted certificates", error, length))
        return 1;
    layer.setCertificateVerification(DCV_requireCertificate);
    if (check(layer.setTLSProfile(TSP_Profile_BCP195), "TLS profile", error, length)) return 1;
    return check(layer.activateCipherSuites(), "TLS cipher suites", error, length);
}

/// Sets up TLS on `requestor` (after initNetwork).
inline int secure(Requestor &requestor, const dk_tls &settings, char *error, size_t length) {
    requestor.tls.reset(new DcmTLSTransportLayer(NET_REQUESTOR, nullptr, OFTrue));
    if (configureTLS(*requestor.tls, settings, error, length)) return 1;
    return check(requestor.scu.useSecureConnection(requestor.tls.get()), "TLS", error, length);
}

/// Opens an association from `callingAE` to `calledAE` at host:port (over TLS when `tls` is not
/// null) proposing `sopClass` in Explicit and Implicit VR Little Endian, with the same timeout for
/// connect, ACSE and DIMSE.
inline int openAssociation(Requestor &requestor, const char *host, uint16_t port, const char *callingAE,
                           const char *calledAE, const dk_tls *tls, int timeoutSeconds, const char *sopClass,
                           char *error, size_t length) {
    DcmSCU &scu = requestor.scu;
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
    if (tls != nullptr && secure(requestor, *tls, error, length)) return 1;
    return check(scu.negotiateAssociation(), "association", error, length);
}

}  // namespace dk

#endif
