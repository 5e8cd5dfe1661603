/// The product version reported by /healthz, DICOM Software Versions and `delineate --version`.
public enum DelineateVersion {
    public static let current = "0.1.0"
}
