public import DicomKit
import Foundation
import Logging

/// Searching a PACS and pulling a study from it onto the worklist: C-FIND, then C-MOVE to our own
/// AE (the PACS must know our AE title, host and DICOM port as a move destination; the instances
/// arrive through our C-STORE SCP), or QIDO-RS, then WADO-RS (the instances are ingested here).
/// Either way the series are assembled and become cases like any other arrival.
public struct PacsPull: Sendable {
    /// A study as the PACS describes it.
    public struct RemoteStudy: Sendable, Equatable, Codable {
        public var studyInstanceUID: String
        public var patientID: String
        public var patientName: String
        public var studyDate: String
        public var accessionNumber: String
        public var studyDescription: String
        public var modalities: [String]
    }

    /// The search keys offered on the worklist; empty ones match anything. `studyDate` may be a
    /// range (`20240101-20241231`); `patientName` may hold `*` wildcards.
    public struct Search: Sendable, Equatable {
        public var patientID = ""
        public var patientName = ""
        public var studyDate = ""
        public var accessionNumber = ""

        public init(
            patientID: String = "", patientName: String = "", studyDate: String = "", accessionNumber: String = ""
        ) {
            self.patientID = patientID
            self.patientName = patientName
            self.studyDate = studyDate
            self.accessionNumber = accessionNumber
        }
    }

    /// What a pull did: how, and how many instances arrived or failed.
    public struct Pulled: Sendable, Equatable, Codable {
        public var transport: String
        public var completed: Int
        public var failed: Int
    }

    /// Our AE title: the calling AE and the C-MOVE destination.
    let aeTitle: String
    let tls: TLSSettings?
    let ingest: DicomIngest
    let logger: Logger

    public init(aeTitle: String, tls: TLSSettings?, ingest: DicomIngest, logger: Logger) {
        self.aeTitle = aeTitle
        self.tls = tls
        self.ingest = ingest
        self.logger = logger
    }

    static let studyKeys: [(DicomTag, String)] = [
        (.queryRetrieveLevel, "STUDY"), (.studyInstanceUID, ""), (.studyDescription, ""),
        (.modalitiesInStudy, ""),
    ]

    /// The studies on `source` matching `search`.
    public func search(_ source: PacsDestination, _ search: Search) async throws(DicomError) -> [RemoteStudy] {
        let keys: [(DicomTag, String, String)] = [
            (.patientID, "PatientID", search.patientID), (.patientName, "PatientName", search.patientName),
            (.studyDate, "StudyDate", search.studyDate),
            (.accessionNumber, "AccessionNumber", search.accessionNumber),
        ]
        let matches: [DicomAttributes]
        switch source.transport {
        case .cStore(let node):
            matches = try await QueryRetrieveSCU.find(
                node, callingAE: aeTitle, keys: Self.studyKeys + keys.map { ($0.0, $0.2) }, tls: tls)
        case .stowRS(let base, _, _):
            let parameters =
                keys.filter { !$0.2.isEmpty }.map { ($0.1, $0.2) } + [
                    ("includefield", "00081030,00080061"), ("limit", "500"),
                ]
            matches = try await DicomWebClient(base: base, authorization: source.authorization).searchStudies(
                parameters)
        }
        return matches.compactMap { match in
            guard let uid = match.string(.studyInstanceUID) else { return nil }
            return RemoteStudy(
                studyInstanceUID: uid, patientID: match.string(.patientID) ?? "",
                patientName: match.string(.patientName) ?? "", studyDate: match.string(.studyDate) ?? "",
                accessionNumber: match.string(.accessionNumber) ?? "",
                studyDescription: match.string(.studyDescription) ?? "",
                modalities: match.values[.modalitiesInStudy] ?? [])
        }
    }

    /// Pulls every instance of the study from `source`; waits until the PACS (C-MOVE) or we
    /// (WADO-RS) have stored them all.
    public func retrieve(_ source: PacsDestination, studyInstanceUID: String) async throws(DicomError) -> Pulled {
        switch source.transport {
        case .cStore(let node):
            let outcome = try await QueryRetrieveSCU.move(
                node, callingAE: aeTitle, destination: aeTitle,
                keys: [(.queryRetrieveLevel, "STUDY"), (.studyInstanceUID, studyInstanceUID)], tls: tls)
            guard outcome.status == 0 || outcome.status == 0xB000 else {
                throw DicomError(
                    .association,
                    "C-MOVE from \(node.address) to \(aeTitle) ended with status 0x\(String(outcome.status, radix: 16, uppercase: true)) (\(outcome.completed) sent, \(outcome.failed) failed); does the PACS know \(aeTitle) as a move destination?"
                )
            }
            return Pulled(transport: "C-MOVE", completed: outcome.completed, failed: outcome.failed)
        case .stowRS(let base, _, _):
            let instances = try await DicomWebClient(base: base, authorization: source.authorization)
                .retrieveStudy(studyInstanceUID)
            var pulled = Pulled(transport: "WADO-RS", completed: 0, failed: 0)
            for bytes in instances {
                do {
                    _ = try await ingest.ingest(bytes, callingAE: "WADO-RS")
                    pulled.completed += 1
                } catch {
                    logger.warning("WADO-RS pull from \(base.absoluteString): an instance was refused: \(error)")
                    pulled.failed += 1
                }
            }
            return pulled
        }
    }
}
