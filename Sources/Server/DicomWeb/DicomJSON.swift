import Store

/// QIDO-RS answers in DICOM JSON (PS3.18 F.2): the attributes each level returns (PS3.18
/// §10.6.3.3), an attribute without a value as its VR alone.
enum DicomJSON {
    static func study(_ study: StudySummary) -> [String: Any] {
        var object: [String: Any] = [:]
        patient(&object, id: study.patientID, name: study.patientName)
        object["00100030"] = element("DA", study.patientBirthDate)
        object["00100040"] = element("CS", study.patientSex)
        object["0020000D"] = element("UI", study.studyInstanceUID)
        object["00080020"] = element("DA", study.studyDate)
        object["00080030"] = element("TM", study.studyTime)
        object["00080050"] = element("SH", study.accessionNumber)
        object["00081030"] = element("LO", study.studyDescription)
        object["00080061"] = ["vr": "CS", "Value": study.modalities] as [String: Any]
        object["00201206"] = ["vr": "IS", "Value": [study.seriesCount]] as [String: Any]
        object["00201208"] = ["vr": "IS", "Value": [study.instanceCount]] as [String: Any]
        object["00080056"] = element("CS", "ONLINE")
        return object
    }

    static func series(_ series: SeriesSummary) -> [String: Any] {
        var object: [String: Any] = [
            "0020000D": element("UI", series.studyInstanceUID), "0020000E": element("UI", series.seriesInstanceUID),
            "00080060": element("CS", series.modality), "0008103E": element("LO", series.seriesDescription),
            "00180015": element("CS", series.bodyPart),
            "00201209": ["vr": "IS", "Value": [series.instanceCount]] as [String: Any],
            "00080056": element("CS", "ONLINE"),
        ]
        object["00200011"] = series.seriesNumber.map { ["vr": "IS", "Value": [$0]] as [String: Any] } ?? ["vr": "IS"]
        return object
    }

    static func instance(_ instance: InstanceSummary) -> [String: Any] {
        var object: [String: Any] = [
            "0020000D": element("UI", instance.studyInstanceUID),
            "0020000E": element("UI", instance.seriesInstanceUID),
            "00080018": element("UI", instance.sopInstanceUID), "00080016": element("UI", instance.sopClassUID),
            "00280008": ["vr": "IS", "Value": [instance.numberOfFrames]] as [String: Any],
            "00080056": element("CS", "ONLINE"),
        ]
        object["00200013"] =
            instance.instanceNumber.map { ["vr": "IS", "Value": [$0]] as [String: Any] } ?? ["vr": "IS"]
        return object
    }

    /// Patient ID and Patient's Name (a PN value is an object with its alphabetic form).
    private static func patient(_ object: inout [String: Any], id: String, name: String) {
        object["00100020"] = element("LO", id)
        object["00100010"] =
            name.isEmpty ? ["vr": "PN"] : ["vr": "PN", "Value": [["Alphabetic": name]]] as [String: Any]
    }

    /// A text attribute: its VR, and its value unless empty.
    private static func element(_ vr: String, _ value: String) -> [String: Any] {
        value.isEmpty ? ["vr": vr] : ["vr": vr, "Value": [value]]
    }
}
