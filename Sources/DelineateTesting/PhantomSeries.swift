public import DicomKit
public import Evaluation
import Foundation
import Segmentation

/// A phantom written as a DICOM series for a test: the phantom, its writer and the file paths.
public struct PhantomSeries: Sendable {
    public let phantom: Phantom
    public let writer: ImageSeriesWriter
    /// The files in slice order (positions rising with the index when `sliceSpacing` > 0).
    public let paths: [String]

    /// Writes `slices` axial slices of a `size` x `size` phantom under `folder/name/`.
    /// - Parameters:
    ///   - uidRoot: the root of the study (.1), series (.2) and frame of reference (.3) UIDs; random by default.
    public static func write(
        _ name: String, slices: Int, size: Int, modality: PhantomModality = .ct, seed: UInt64 = 21,
        uidRoot: String = "2.25.\(UInt64.random(in: 1...UInt64.max))", pixelSpacing: Double = 0.9,
        sliceSpacing: Double = 2, origin: (x: Double, y: Double, z: Double) = (-20, -30, 100), in folder: String
    ) throws -> PhantomSeries {
        let phantom = PhantomGenerator(columns: size, rows: size, slices: slices, modality: modality).generate(
            seed: seed)
        let writer = ImageSeriesWriter(
            series: SeriesDescription(
                patientName: "Test^\(name)", patientID: "TEST-\(name)", studyInstanceUID: uidRoot + ".1",
                seriesInstanceUID: uidRoot + ".2", frameOfReferenceUID: uidRoot + ".3", studyDate: "20260101",
                seriesDescription: name, modality: modality.rawValue),
            columns: size, rows: size, pixelSpacing: pixelSpacing, sliceSpacing: sliceSpacing, origin: origin,
            rescaleIntercept: modality == .ct ? -1024 : 0)
        try FileManager.default.createDirectory(atPath: "\(folder)/\(name)", withIntermediateDirectories: true)
        let sliceSize = size * size
        let paths = try (0..<slices).map { index -> String in
            let path = "\(folder)/\(name)/\(index).dcm"
            try writer.writeSlice(
                index, values: phantom.intensities[index * sliceSize..<(index + 1) * sliceSize], to: path)
            return path
        }
        return PhantomSeries(phantom: phantom, writer: writer, paths: paths)
    }

    /// The bytes of slice `index`'s file.
    public func bytes(_ index: Int) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: paths[index])))
    }
}
