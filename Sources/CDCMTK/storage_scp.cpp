// A C-STORE SCP over DCMTK's DcmSCPPool: each association runs on a worker thread, each
// received instance is written to a temporary file and handed to a C callback.
#include "CDCMTK.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scppool.h>
#include <dcmtk/dcmnet/scpthrd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

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

struct dk_storage_scp {
    DcmSCPPool<StorageWorker> pool;
};

extern "C" {

dk_storage_scp *dk_storage_scp_new(const char *aeTitle, uint16_t port, uint16_t maxAssociations,
                                   const char *allowedCallingAEs, const char *sopClasses, const char *tempDirectory,
                                   dk_store_handler handler, void *context) {
    dk_register_codecs();
    auto &shared = settings();
    shared.allowedCallingAEs = splitList(allowedCallingAEs);
    shared.tempDirectory = tempDirectory;
    shared.handler = handler;
    shared.context = context;

    auto *scp = new dk_storage_scp();
    DcmSCPConfig &config = scp->pool.getConfig();
    config.setAETitle(aeTitle);
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
    for (const auto &sopClass : splitList(sopClasses)) config.addPresentationContext(sopClass.c_str(), syntaxes);
    OFList<OFString> echoSyntaxes;
    echoSyntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    echoSyntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    config.addPresentationContext(UID_VerificationSOPClass, echoSyntaxes);
    scp->pool.setMaxThreads(maxAssociations);
    return scp;
}

int dk_storage_scp_listen(dk_storage_scp *scp, char *error, size_t errorLength) {
    OFCondition status = scp->pool.listen();
    if (status.bad() && status != NET_EC_StopAfterAssociation) {
        if (error != nullptr && errorLength > 0) std::snprintf(error, errorLength, "%s", status.text());
        return 1;
    }
    return 0;
}

void dk_storage_scp_stop(dk_storage_scp *scp) { scp->pool.stopAfterCurrentAssociations(); }

void dk_storage_scp_free(dk_storage_scp *scp) { delete scp; }

}  // extern "C"
