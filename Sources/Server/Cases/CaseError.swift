/// Why the case service refused a request, in terms of the request rather than of a protocol:
/// each door (the web API, MONAI Label's, PACS pull) turns it into its own answer.
enum CaseError: Error, Equatable {
    /// The request is malformed or names something impossible (the web API's 400).
    case invalid(String)
    /// Not found (404).
    case notFound(String)
    /// The user may not do this to this case (403).
    case forbidden(String)
    /// The case's state forbids it now (409), with a stable code: nothing_to_undo, empty_mask, …
    case conflict(code: String, message: String)
    /// Understood but not acceptable until the user chooses (422), e.g. needs_code.
    case unprocessable(code: String, message: String)
    /// A part the request needs is not there (503): no_model, no_structure_model.
    case unavailable(code: String, message: String)
}
