import Foundation
import XCTest
@testable import StyleCamCore

final class FrameGateTests: XCTestCase {
    func testGateCountsLikeThePacer() {
        let gate = FrameGate<Int>(targetFPS: 15)
        XCTAssertEqual(gate.arrive(1, at: 0), 1)
        XCTAssertNil(gate.arrive(2, at: 0.01))
        XCTAssertNil(gate.arrive(3, at: 0.07))
        XCTAssertEqual(gate.finish(), 3)
        XCTAssertNil(gate.finish())
        XCTAssertNil(gate.arrive(4, at: 0.1))
        XCTAssertEqual(gate.counters, counters(offered: 4, accepted: 2, droppedBusy: 1, droppedEarly: 1, completed: 2))
    }

    func testConcurrentArrivalsLeaveOneFrameWaiting() {
        let gate = FrameGate<Int>(targetFPS: 1000)
        XCTAssertEqual(gate.arrive(0, at: 0), 0)
        DispatchQueue.concurrentPerform(iterations: 1000) { index in
            _ = gate.arrive(index + 1, at: Double(index + 1))
        }
        XCTAssertNotNil(gate.finish(), "the newest late frame is handed over")
        XCTAssertNil(gate.finish())
        XCTAssertEqual(gate.counters.offered, 1001)
        XCTAssertEqual(gate.counters.accepted, 2)
        XCTAssertEqual(gate.counters.droppedBusy, 999)
        XCTAssertEqual(gate.counters.completed, 2)
    }

    /// The app's pattern: the capture thread arrives, each accepted frame starts a model loop that runs
    /// until `finish()` hands nothing over. The loops go to a concurrent queue, so a frame let in while
    /// another is in the model would overlap with it (see `runModelLoop`).
    func testOneFrameInTheModelWhileFramesArriveFromAnotherThread() {
        let gate = FrameGate<Int>(targetFPS: 1_000_000)
        let overlap = OverlapMeter()
        let frameCount = 2000
        runModelLoop(gate, frames: frameCount, overlap: overlap)
        let counters = gate.counters
        XCTAssertEqual(overlap.most, 1)
        XCTAssertEqual(counters.offered, frameCount)
        XCTAssertEqual(counters.completed, counters.accepted)
        XCTAssertEqual(counters.accepted + counters.droppedBusy, frameCount, "no frame is left waiting once the model is idle")
        XCTAssertEqual(counters.droppedEarly, 0)
    }
}
