import Store
import Testing

@Suite struct RunLengthCodecTests {
    @Test func roundTripsAndRejectsBadData() throws {
        let labels: [UInt8] = [0, 0, 0, 1, 1, 2, 0, 0]
        let encoded = RunLengthCodec.encode(labels)
        #expect(encoded.count == 4 * 5)
        #expect(try RunLengthCodec.decode(encoded, count: labels.count) == labels)
        #expect(throws: StoreError.self) { try RunLengthCodec.decode(encoded, count: 7) }
        #expect(throws: StoreError.self) { try RunLengthCodec.decode(Array(encoded.dropLast()), count: 8) }
    }
}
