import Evaluation
import Foundation
import Segmentation
import Tensor
import Testing

/// The metadata's logit adjustment decides the labels the SIM network's probabilities become.
@Suite struct LogitAdjustmentTests {
    let phantom = PhantomGenerator(columns: 128, rows: 128, slices: 8, modality: .ct).generate(seed: 5)

    /// The committed SIM network with its metadata's "logitAdjustment" replaced (nil: removed).
    static func sim(adjustment: [Float]?) throws -> SimNetwork {
        let url = URL(fileURLWithPath: NetworkParityTests.path("Models/sim.safetensors"))
        return try SimNetwork(weights: try WeightFile(data: try withMetadata(of: Data(contentsOf: url), adjustment)))
    }

    /// The safetensors bytes with another logit adjustment in the "delineate" metadata (the data
    /// offsets are relative to the end of the header, so only the header changes).
    static func withMetadata(of file: Data, _ adjustment: [Float]?) throws -> Data {
        let length = file.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = try JSONSerialization.jsonObject(with: file.subdata(in: 8..<8 + length)) as! [String: Any]
        var fields = header["__metadata__"] as! [String: String]
        var document = try JSONSerialization.jsonObject(with: Data(fields["delineate"]!.utf8)) as! [String: Any]
        document["logitAdjustment"] = adjustment
        fields["delineate"] = String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
        header["__metadata__"] = fields
        let newHeader = try JSONSerialization.data(withJSONObject: header)
        let prefix = (0..<8).map { UInt8(truncatingIfNeeded: newHeader.count >> (8 * $0)) }
        return Data(prefix) + newHeader + file.subdata(in: 8 + length..<file.count)
    }

    func automaticLabels(_ sim: SimNetwork) throws -> [UInt8] {
        let session = InteractiveSession(
            volume: ScanVolume(
                columns: phantom.columns, rows: phantom.rows, slices: phantom.slices,
                voxels: phantom.intensities.map(Float.init), modality: "CT"),
            sim: sim, propagation: nil)
        return try session.automatic(slice: phantom.slices / 2)
    }

    @Test func anAdjustmentAgainstEveryStructureLeavesOnlyBackground() throws {
        let plain = try automaticLabels(try Self.sim(adjustment: nil))
        #expect(plain.contains { $0 != 0 })
        let againstStructures = try automaticLabels(try Self.sim(adjustment: [0, -30, -30, -30, -30, -30]))
        #expect(againstStructures.allSatisfy { $0 == 0 })
    }

    @Test func aZeroAdjustmentChangesNothing() throws {
        let plain = try automaticLabels(try Self.sim(adjustment: nil))
        #expect(try automaticLabels(try Self.sim(adjustment: [0, 0, 0, 0, 0, 0])) == plain)
    }

    @Test func anAdjustmentForTheWrongClassCountIsRefused() throws {
        #expect(throws: TensorError.invalidFile("the logit adjustment has 3 values for 6 classes")) {
            try Self.sim(adjustment: [0, 1, 2])
        }
    }
}
