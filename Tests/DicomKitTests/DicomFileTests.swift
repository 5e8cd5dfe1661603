import DelineateTesting
import DicomKit
import Foundation
import Testing

@Suite struct DicomFileTests {
    @Test func writesAndReadsBackAttributesAndSignedPixels() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID()).dcm").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = DicomFile()
        try file.set(.sopClassUID, "1.2.840.10008.5.1.4.1.1.2")
        try file.set(.sopInstanceUID, "1.2.826.0.1.3680043.8.498.1")
        try file.set(.patientName, "Phantom^One")
        try file.set(.imagePositionPatient, "-100\\-120.5\\30")
        let stored: [Int16] = [-1024, -1, 0, 1, 40, 3071]
        try file.setPixels16(stored.map { UInt16(bitPattern: $0) }, rows: 2, columns: 3, signed: true)
        try file.write(to: path)

        let read = try DicomFile(path: path)
        #expect(read.string(.patientName) == "Phantom^One")
        #expect(try read.decimals(.imagePositionPatient) == [-100, -120.5, 30])
        #expect(read.string(.transferSyntaxUID) == "1.2.840.10008.1.2.1")
        #expect(try read.frame(0, rows: 2, columns: 3) == stored.map(Int32.init))
    }

    @Test func rejectsATruncatedFileWithAReason() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID()).dcm").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bytes = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
        bytes += [0x02, 0x00, 0x10, 0x00, 0x55, 0x49, 0x40]  // a meta element cut off mid-header
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        #expect(throws: DicomError.self) { try DicomFile(path: path) }
    }

    @Test func readsARealCTSliceDumpedByDcmtk() throws {
        // dcmdump (DCMTK) must see the same values our reader does on a file we wrote.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID()).dcm").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = DicomFile()
        try file.set(.sopClassUID, "1.2.840.10008.5.1.4.1.1.2")
        try file.set(.sopInstanceUID, "1.2.826.0.1.3680043.8.498.2")
        try file.set(.modality, "CT")
        try file.setPixels16([1, 2, 3, 4], rows: 2, columns: 2, signed: false)
        try file.write(to: path)
        let output = try Process.output(
            of: "/usr/bin/dcmdump", arguments: ["+P", "0008,0060", "+P", "0028,0010", path])
        #expect(output.contains("[CT]"))
        #expect(output.contains("(0028,0010) US 2"))
    }

    @Test func echoesTheDevelopmentPacs() async throws {
        let orthanc = DicomNode(
            aeTitle: DevServices.orthancAE, host: DevServices.orthancHost, port: DevServices.orthancDicomPort)
        try await orthanc.echo(callingAE: "DELINEATE_TEST")
        let wrongAE = DicomNode(aeTitle: "NOT_ORTHANC", host: orthanc.host, port: orthanc.port)
        await #expect(throws: DicomError.self) { try await wrongAE.echo(callingAE: "DELINEATE_TEST") }
    }
}
