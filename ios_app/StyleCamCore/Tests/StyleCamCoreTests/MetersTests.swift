import XCTest
@testable import StyleCamCore

final class MetersTests: XCTestCase {
    func testFPSNeedsTwoFrames() {
        var meter = FPSMeter(window: 1)
        XCTAssertNil(meter.framesPerSecond)
        meter.record(at: 0)
        XCTAssertNil(meter.framesPerSecond)
        meter.record(at: 0.1)
        XCTAssertEqual(meter.framesPerSecond ?? 0, 10, accuracy: 1e-9)
    }

    func testFPSForgetsFramesOutsideTheWindow() {
        var meter = FPSMeter(window: 1)
        for index in 0..<30 {
            meter.record(at: Double(index) / 30)
        }
        XCTAssertEqual(meter.framesPerSecond ?? 0, 30, accuracy: 0.01)
        for index in 0..<20 {
            meter.record(at: 1 + Double(index) / 10)
        }
        XCTAssertEqual(meter.framesPerSecond ?? 0, 10, accuracy: 0.01)
    }

    func testLatencyKeepsTheLatestSamples() {
        var meter = LatencyMeter(capacity: 3)
        XCTAssertNil(meter.mean)
        for sample in [0.5, 0.01, 0.02, 0.03] {
            meter.record(sample)
        }
        XCTAssertEqual(meter.mean ?? 0, 0.02, accuracy: 1e-12)
        XCTAssertEqual(meter.worst ?? 0, 0.03, accuracy: 1e-12)
    }

    func testHUDLine() {
        var latency = LatencyMeter()
        latency.record(0.040)
        latency.record(0.050)
        XCTAssertEqual(
            HUDText.line(framesPerSecond: 14.96, latency: latency, counters: counters(offered: 60, droppedBusy: 2, droppedEarly: 28)),
            "15.0 fps | 45 ms (max 50 ms) | dropped 30/60"
        )
        XCTAssertEqual(
            HUDText.line(framesPerSecond: nil, latency: LatencyMeter(), counters: counters()),
            "-- fps | -- ms (max -- ms) | dropped 0/0"
        )
    }
}

final class LiveStatisticsTests: XCTestCase {
    func testHUDLineFromConcurrentRecorders() {
        let statistics = LiveStatistics(fpsWindow: 10, latencySamples: 1000)
        DispatchQueue.concurrentPerform(iterations: 100) { _ in
            statistics.recordLatency(0.050)
        }
        for index in 0..<50 {
            statistics.recordDisplayedFrame(at: Double(index) / 7.5)
        }
        let offered = counters(offered: 100)
        XCTAssertNotNil(statistics.displayedFramesPerSecond)
        XCTAssertTrue(statistics.hudLine(counters: offered).hasPrefix("7.5 fps | 50 ms (max 50 ms)"), statistics.hudLine(counters: offered))
        statistics.reset()
        XCTAssertEqual(statistics.hudLine(counters: offered), "-- fps | -- ms (max -- ms) | dropped 0/100")
    }
}
