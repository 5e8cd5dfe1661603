import Testing
import VolumeFiles

@testable import Evaluation

/// The Dice-vs-clicks chart `delineate eval --chart` writes.
@Suite struct LineChartTests {
    let chart = LineChart(xTicks: [0, 1, 2, 3], yTicks: [0, 0.5, 1])

    @Test func seriesPointsAndTickLabelsAreDrawn() {
        let blue: [UInt8] = [31, 119, 180]
        let canvas = chart.render([LineChart.Series(points: [(0, 0.2), (3, 0.9)], colour: blue)])
        func colour(_ point: (x: Int, y: Int)) -> [UInt8] {
            let index = (point.y * canvas.width + point.x) * 3
            return Array(canvas.pixels[index..<index + 3])
        }
        #expect(colour(chart.pixel(x: 0, y: 0.2)) == blue)
        #expect(colour(chart.pixel(x: 3, y: 0.9)) == blue)
        #expect(colour(chart.pixel(x: 1.5, y: 0.55)) == blue, "the line between the points")
        #expect(colour(chart.pixel(x: 1.5, y: 0.2)) != blue)
        #expect(canvas.pixels.contains(40), "tick labels in dark grey")
    }

    @Test func tickValuesAreWrittenShort() {
        #expect(LineChart.format(3) == "3")
        #expect(LineChart.format(0.5) == "0.5")
        #expect(LineChart.format(0.25) == "0.25")
        #expect(LineChart.format(0.1) == "0.1")
    }

    @Test func theChartIsAnRGBPNG() {
        let png = chart.png([])
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(png[16..<26]) == [0, 0, 2, 128, 0, 0, 1, 144, 8, 2], "640 x 400, 8-bit RGB")
    }
}
