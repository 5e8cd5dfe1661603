import DicomKit
import Foundation
import Hummingbird
import Logging
import Store

/// The worklist's pull from PACS: list the configured sources, search one, pull a study (reviewers
/// and admins; every search and pull is audited).
struct PacsPullAPI: Sendable {
    let cases: CaseService
    let authenticator: Authenticator
    let pull: PacsPull

    init(cases: CaseService, authenticator: Authenticator, logger: Logger) {
        self.cases = cases
        self.authenticator = authenticator
        self.pull = PacsPull(
            aeTitle: cases.configuration.aeTitle, tls: cases.configuration.tls,
            ingest: DicomIngest(files: cases.files, pool: cases.pool), logger: logger)
    }

    struct Source: Encodable {
        var id: Int
        var description: String
    }

    struct Retrieve: Decodable {
        var studyInstanceUID: String
    }

    func register(on router: Router<DelineateContext>) {
        let roles: Set<Role> = [.reviewer, .admin]
        let pacs = router.group("/api/v1/pacs").signedIn(by: authenticator)
        pacs.on(.get, "sources", roles: roles) { _, _, _ in
            try JSONBody.response(
                cases.configuration.pacsSources.enumerated().map {
                    Source(id: $0.offset + 1, description: $0.element.description)
                })
        }
        pacs.on(.get, "sources/:source/studies", roles: roles) {
            request, context, session in
            let source = try self.source(context)
            let query = request.uri.queryParameters
            let search = PacsPull.Search(
                patientID: query.get("patientId") ?? "", patientName: query.get("patientName") ?? "",
                studyDate: query.get("studyDate") ?? "", accessionNumber: query.get("accessionNumber") ?? "")
            let studies = try await pull.search(source, search)
            try await cases.audit(
                CaseActor(session, context), "pacs.search",
                detail: ["source": source.description, "query": request.uri.query ?? "", "matches": studies.count])
            return try JSONBody.response(studies)
        }
        pacs.on(.post, "sources/:source/retrieve", roles: roles) {
            request, context, session in
            let source = try self.source(context)
            let body = try await JSONBody.decode(Retrieve.self, from: request)
            guard DicomIngest.isUID(body.studyInstanceUID) else {
                throw APIFailure.badRequest("studyInstanceUID '\(body.studyInstanceUID.prefix(80))' is not a UID")
            }
            if case .cStore = source.transport, cases.configuration.dicomPort == 0 {
                throw APIFailure(
                    status: .conflict, code: "no_dicom_listener",
                    message: "a C-MOVE needs our DICOM port open (dicom.port) to receive the study")
            }
            let pulled = try await pull.retrieve(source, studyInstanceUID: body.studyInstanceUID)
            try await cases.audit(
                CaseActor(session, context), "pacs.retrieve",
                detail: [
                    "source": source.description, "studyInstanceUID": body.studyInstanceUID,
                    "completed": pulled.completed, "failed": pulled.failed,
                ])
            return try JSONBody.response(pulled)
        }
    }

    func source(_ context: DelineateContext) throws -> PacsDestination {
        let sources = cases.configuration.pacsSources
        guard let id = context.parameters.get("source", as: Int.self), id >= 1, id <= sources.count else {
            throw APIFailure.notFound("no PACS source with this id; GET /api/v1/pacs/sources lists them")
        }
        return sources[id - 1]
    }
}
