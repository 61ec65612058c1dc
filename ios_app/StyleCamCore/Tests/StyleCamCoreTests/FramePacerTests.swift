import XCTest
@testable import StyleCamCore

final class FramePacerTests: XCTestCase {
    /// Feeds frames at `cameraFPS` for `seconds`; each accepted frame takes `inference` seconds.
    private func simulate(cameraFPS: Double, seconds: Double, inference: Double, targetFPS: Double = 15) -> (pacer: FramePacer, acceptedTimes: [Double]) {
        var pacer = FramePacer(targetFPS: targetFPS)
        var acceptedTimes: [Double] = []
        var busyUntil: Double?
        let frameCount = Int(cameraFPS * seconds)
        for index in 0..<frameCount {
            let time = Double(index) / cameraFPS
            if let end = busyUntil, time >= end {
                pacer.finish()
                busyUntil = nil
            }
            if pacer.offer(at: time) == .accept {
                acceptedTimes.append(time)
                busyUntil = time + inference
            }
        }
        return (pacer, acceptedTimes)
    }

    func testThirtyFPSCameraIsThinnedToFifteen() {
        let (pacer, accepted) = simulate(cameraFPS: 30, seconds: 10, inference: 0.02)
        XCTAssertEqual(accepted.count, 150)
        XCTAssertEqual(pacer.counters.droppedEarly, 150)
        XCTAssertEqual(pacer.counters.droppedBusy, 0)
    }

    func testSixtyFPSCameraIsThinnedToFifteenWithoutDrift() {
        let (_, accepted) = simulate(cameraFPS: 60, seconds: 10, inference: 0.02)
        XCTAssertEqual(accepted.count, 150)
        let gaps = zip(accepted.dropFirst(), accepted).map { $0 - $1 }
        for gap in gaps {
            XCTAssertEqual(gap, 1.0 / 15, accuracy: 0.001)
        }
    }

    func testSlowModelDropsFramesWhileBusy() {
        let (pacer, accepted) = simulate(cameraFPS: 30, seconds: 3, inference: 0.1)
        XCTAssertGreaterThan(pacer.counters.droppedBusy, 0)
        XCTAssertLessThan(accepted.count, 45)
        let gaps = zip(accepted.dropFirst(), accepted).map { $0 - $1 }
        XCTAssertTrue(gaps.allSatisfy { $0 >= 0.1 - 1e-9 }, "a frame was accepted while another was in flight")
    }

    func testAtMostOneFrameInFlight() {
        var pacer = FramePacer(targetFPS: 15)
        XCTAssertEqual(pacer.offer(at: 0), .accept)
        XCTAssertTrue(pacer.isBusy)
        XCTAssertEqual(pacer.offer(at: 1), .dropBusy)
        XCTAssertEqual(pacer.offer(at: 2), .dropBusy)
        pacer.finish()
        XCTAssertEqual(pacer.offer(at: 3), .accept)
        XCTAssertEqual(pacer.counters, counters(offered: 4, accepted: 2, droppedBusy: 2, completed: 1))
    }

    func testJitteredFrameJustBeforeDueTimeIsAccepted() {
        var pacer = FramePacer(targetFPS: 15)
        XCTAssertEqual(pacer.offer(at: 10.0), .accept)
        pacer.finish()
        XCTAssertEqual(pacer.offer(at: 10.0 + 1.0 / 15 - 0.002), .accept)
        pacer.finish()
        XCTAssertEqual(pacer.offer(at: 10.0 + 1.0 / 15 + 0.03), .dropEarly)
    }

    func testScheduleRestartsAfterALongStall() {
        var pacer = FramePacer(targetFPS: 15)
        XCTAssertEqual(pacer.offer(at: 0), .accept)
        pacer.finish()
        XCTAssertEqual(pacer.offer(at: 5), .accept)
        pacer.finish()
        XCTAssertEqual(pacer.offer(at: 5.04), .dropEarly, "a stall must not let a burst of frames through")
        XCTAssertEqual(pacer.offer(at: 5.0 + 1.0 / 15), .accept)
    }
}
