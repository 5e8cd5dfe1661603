// A C-STORE SCP over DCMTK's DcmSCPPool, one pool per port (plain or TLS): each association runs
// on a worker thread, each received instance is written to a temporary file and handed to a C
// callback.
#include "CDCMTK.h"
#include "internal.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scppool.h>
#include <dcmtk/dcmnet/scpthrd.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <atomic>
#include <memory>
#include <cstdio>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <cstdlib>
#include <unistd.h>
#include <vector>

namespace {

std::set<std::string> splitList(const char *text) {
    std::set<std::string> items;
    std::stringstream stream(text == nullptr ? "" : text);
    std::string item;
    while (std::getline(stream, item, '\\')) {
        if (!item.empty()) items.insert(item);
    }
    return items;
}

/// Process-wide settings the workers read (DcmSCPPool default-constructs its workers).
struct StorageSettings {
    std::set<std::string> allowedCallingAEs;
    std::string tempDirectory;
    dk_store_handler handler = nullptr;
    void *context = nullptr;
    std::atomic<unsigned long> counter{0};
};

StorageSettings &settings() {
    static StorageSettings shared;
    return shared;
}

class StorageWorker : public DcmThreadSCP {
   protected:
    OFBool checkCallingAETitleAccepted(const OFString &callingAE) override {
        const auto &allowed = settings().allowedCallingAEs;
        return allowed.empty() || allowed.count(callingAE.c_str()) > 0;
    }

    OFCondition handleIncomingCommand(T_DIMSE_Message *message, const DcmPresentationContextInfo &info) override {
        if (message->CommandField != DIMSE_C_STORE_RQ) return DcmThreadSCP::handleIncomingCommand(message, info);
        T_DIMSE_C_StoreRQ &request = message->msg.CStoreRQ;
        auto &shared = settings();
        const std::string path = shared.tempDirectory + "/incoming-" + std::to_string(getpid()) + "-" +
                                 std::to_string(shared.counter.fetch_add(1)) + ".dcm";
        OFCondition status = receiveSTORERequest(request, info.presentationContextID, OFString(path.c_str()));
        if (status.bad()) {
            std::remove(path.c_str());
            return status;
        }
        Uint16 answer = shared.handler(shared.context, path.c_str(), getPeerAETitle().c_str());
        std::remove(path.c_str());
        return sendSTOREResponse(info.presentationContextID, request, answer);
    }
};

}  // namespace

/// One listening port: its pool and, for TLS, the layer it owns (declared first so it outlives the pool).
struct StoragePort {
    std::unique_ptr<DcmTLSTransportLayer> tls;
    DcmSCPPool<StorageWorker> pool;
};

struct dk_storage_scp {
    std::string aeTitle;
    uint16_t maxAssociations;
    std::set<std::string> sopClasses;
    std::vector<std::unique_ptr<StoragePort>> ports;
};

namespace {

/// Applies the SCP's AE title, timeouts and presentation contexts to one port's pool.
void configure(DcmSCPConfig &config, const dk_storage_scp &scp, uint16_t port) {
    config.setAETitle(scp.aeTitle.c_str());
    config.setPort(port);
    config.setConnectionBlockingMode(DUL_NOBLOCK);
    config.setConnectionTimeout(1);
    config.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    config.setDIMSETimeout(60);
    config.setACSETimeout(30);
    config.setHostLookupEnabled(OFFalse);
    OFList<OFString> syntaxes;
    for (const char *uid :
         {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
          UID_BigEndianExplicitTransferSyntax, UID_DeflatedExplicitVRLittleEndianTransferSyntax,
          UID_JPEGProcess1TransferSyntax, UID_JPEGProcess2_4TransferSyntax, UID_JPEGProcess14TransferSyntax,
          UID_JPEGProcess14SV1TransferSyntax, UID_JPEGLSLosslessTransferSyntax, UID_JPEGLSLossyTransferSyntax,
          UID_RLELosslessTransferSyntax}) {
        syntaxes.push_back(uid);
    }
    for (const auto &sopClass : scp.sopClasses) config.addPresentationContext(sopClass.c_str(), syntaxes);
    OFList<OFString> echoSyntaxes;
    echoSyntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    echoSyntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    config.addPresentationContext(UID_VerificationSOPClass, echoSyntaxes);
}

}  // namespace

extern "C" {

dk_storage_scp *dk_storage_scp_new(const char *aeTitle, uint16_t maxAssociations, const char *allowedCallingAEs,
                                   const char *sopClasses, const char *tempDirectory, dk_store_handler handler,
                                   void *context) {
    dk_register_codecs();
    // DCMTK leaves Nagle's algorithm on unless TCP_NODELAY=1 is in the environment (read as each
    // association opens). With it on, a sender's last segment of each instance waits for our
    // delayed ACK (40 ms on Linux): storescu then gets ~20 instances/s whatever the receiver does,
    // and 250/s with it off. Set here, before any association exists; an operator's own value wins.
    setenv("TCP_NODELAY", "1", 0);
    auto &shared = settings();
    shared.allowedCallingAEs = splitList(allowedCallingAEs);
    shared.tempDirectory = tempDirectory;
    shared.handler = handler;
    shared.context = context;
    return new dk_storage_scp{aeTitle, maxAssociations, splitList(sopClasses), {}};
}

int dk_storage_scp_add_port(dk_storage_scp *scp, uint16_t port, const dk_tls *tls, char *error, size_t errorLength) {
    auto listener = std::make_unique<StoragePort>();
    configure(listener->pool.getConfig(), *scp, port);
    listener->pool.setMaxThreads(scp->maxAssociations);
    if (tls != nullptr) {
        listener->tls.reset(new DcmTLSTransportLayer(NET_ACCEPTOR, nullptr, OFTrue));
        if (dk::configureTLS(*listener->tls, *tls, error, errorLength)) return -1;
        listener->pool.getConfig().setTransportLayer(listener->tls.get());
    }
    scp->ports.push_back(std::move(listener));
    return static_cast<int>(scp->ports.size() - 1);
}

int dk_storage_scp_listen(dk_storage_scp *scp, int portIndex, char *error, size_t errorLength) {
    OFCondition status = scp->ports.at(static_cast<size_t>(portIndex))->pool.listen();
    if (status.bad() && status != NET_EC_StopAfterAssociation) {
        if (error != nullptr && errorLength > 0) std::snprintf(error, errorLength, "%s", status.text());
        return 1;
    }
    return 0;
}

void dk_storage_scp_stop(dk_storage_scp *scp) {
    for (auto &port : scp->ports) port->pool.stopAfterCurrentAssociations();
}

void dk_storage_scp_free(dk_storage_scp *scp) { delete scp; }

}  // extern "C"
