/// The anatomy classes of a procedural phantom, in label order (0 is background): the classes of
/// the multi-class network, which was trained on phantoms.
public enum PhantomClass: UInt8, CaseIterable, Sendable {
    case background = 0
    /// A large organ (liver-like).
    case largeOrgan = 1
    /// A medium organ with an inner cavity (uterus-like).
    case mediumOrgan = 2
    /// The small cavity inside the medium organ: the hardest class.
    case cavity = 3
    /// Lesions inside or touching the large organ, 0 to several per case.
    case lesion = 4
    /// A curved tube whose cross-sections split into several components.
    case vessel = 5

    public var name: String {
        switch self {
        case .background: "background"
        case .largeOrgan: "large organ"
        case .mediumOrgan: "medium organ"
        case .cavity: "cavity"
        case .lesion: "lesion"
        case .vessel: "vessel"
        }
    }
}
