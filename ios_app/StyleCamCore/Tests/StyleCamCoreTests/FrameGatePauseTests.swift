import Foundation
import XCTest
@testable import StyleCamCore

final class FrameGatePauseTests: XCTestCase {
    private final class Buffer {}

    func testPauseReleasesTheWaitingFrameAndFinishHandsNothingOver() {
        let gate = FrameGate<Buffer>(targetFPS: 15)
        let inModel = Buffer()
        XCTAssertTrue(gate.arrive(inModel, at: 0) === inModel)
        weak var waiting: Buffer?
        do {
            let buffer = Buffer()
            waiting = buffer
            XCTAssertNil(gate.arrive(buffer, at: 0.07))
        }
        XCTAssertNotNil(waiting, "the late frame waits for the model")
        gate.pause()
        XCTAssertTrue(gate.isPaused)
        XCTAssertNil(waiting, "pause() must release the waiting frame")
        XCTAssertNil(gate.finish(), "the frame in the model finishes without a successor")
        let counters = gate.counters
        XCTAssertEqual(counters.offered, 2)
        XCTAssertEqual(counters.accepted, 1)
        XCTAssertEqual(counters.droppedBusy, 1, "the released waiting frame counts as dropped")
        XCTAssertEqual(counters.completed, 1)
        XCTAssertEqual(counters.discarded, 1, "the frame in the model at pause() counts as discarded")
    }

    func testFramesArrivingWhilePausedAreRefusedAndNotCounted() {
        let gate = FrameGate<Int>(targetFPS: 15)
        gate.pause()
        XCTAssertNil(gate.arrive(1, at: 0), "an idle model takes no frame while paused")
        XCTAssertNil(gate.arrive(2, at: 1))
        XCTAssertEqual(gate.counters, counters(), "a refused frame is neither kept nor counted")

        // Paused with a frame in the model: later frames neither wait nor get handed over.
        gate.resume()
        XCTAssertEqual(gate.arrive(3, at: 2), 3)
        gate.pause()
        XCTAssertNil(gate.arrive(4, at: 2.04))
        XCTAssertNil(gate.arrive(5, at: 2.07))
        XCTAssertNil(gate.finish())
        XCTAssertEqual(gate.counters, counters(offered: 1, accepted: 1, completed: 1, discarded: 1))
    }

    func testResumeRestoresNormalPacing() {
        let gate = FrameGate<Int>(targetFPS: 15)
        XCTAssertEqual(gate.arrive(1, at: 0), 1)
        XCTAssertNil(gate.arrive(2, at: 0.04))
        gate.pause()
        XCTAssertNil(gate.finish())
        XCTAssertNil(gate.arrive(3, at: 0.5))
        gate.resume()
        XCTAssertFalse(gate.isPaused)
        // As before the pause: a frame runs, a late one waits, a newer one replaces it and is handed over
        // when the model finishes, and one too early for the schedule is dropped.
        XCTAssertEqual(gate.arrive(4, at: 1), 4)
        XCTAssertNil(gate.arrive(5, at: 1.04))
        XCTAssertNil(gate.arrive(6, at: 1.07))
        XCTAssertEqual(gate.finish(), 6)
        XCTAssertNil(gate.finish())
        XCTAssertNil(gate.arrive(7, at: 1.1))
        XCTAssertEqual(gate.counters, counters(offered: 6, accepted: 3, droppedBusy: 2, droppedEarly: 1, completed: 3, discarded: 1))
    }

    func testTheResultOfTheFrameInTheModelAtPauseIsNotDelivered() {
        let gate = FrameGate<Int>(targetFPS: 15)
        XCTAssertEqual(gate.arrive(1, at: 0), 1)
        XCTAssertTrue(gate.isResultWanted)
        gate.pause()
        XCTAssertFalse(gate.isResultWanted, "the model need not run a frame whose result is unwanted")
        var published = false
        XCTAssertFalse(gate.deliver { published = true })
        XCTAssertFalse(published, "a result that arrives after pause() must not be shown")
        XCTAssertNil(gate.finish())
        XCTAssertEqual(gate.counters, counters(offered: 1, accepted: 1, completed: 1, discarded: 1))
    }

    func testWhileRunningEachResultIsDeliveredOnce() {
        let gate = FrameGate<Int>(targetFPS: 15)
        var published: [Int] = []
        XCTAssertFalse(gate.isResultWanted, "no frame is in the model")
        XCTAssertFalse(gate.deliver { published.append(0) })
        XCTAssertEqual(gate.arrive(1, at: 0), 1)
        XCTAssertNil(gate.arrive(2, at: 0.07))
        XCTAssertTrue(gate.deliver { published.append(1) })
        XCTAssertFalse(gate.isResultWanted)
        XCTAssertFalse(gate.deliver { published.append(1) }, "a result is delivered once")
        XCTAssertEqual(gate.finish(), 2)
        XCTAssertTrue(gate.isResultWanted, "the frame handed over by finish() has a wanted result")
        XCTAssertTrue(gate.deliver { published.append(2) })
        XCTAssertNil(gate.finish())
        XCTAssertEqual(published, [1, 2])
        XCTAssertEqual(gate.counters, counters(offered: 2, accepted: 2, completed: 2))
    }

    func testAResultDeliveredBeforePauseIsNotDiscarded() {
        let gate = FrameGate<Int>(targetFPS: 15)
        XCTAssertEqual(gate.arrive(1, at: 0), 1)
        XCTAssertTrue(gate.deliver {})
        gate.pause()
        XCTAssertNil(gate.finish())
        XCTAssertEqual(gate.counters, counters(offered: 1, accepted: 1, completed: 1))
    }

    /// A quick stop and start: the frame that was in the model through both is still not shown, and
    /// the frame that waited for it, let in after `resume()`, is.
    func testAFrameInTheModelThroughPauseAndResumeIsStillDiscarded() {
        let gate = FrameGate<Int>(targetFPS: 15)
        XCTAssertEqual(gate.arrive(1, at: 0), 1)
        gate.pause()
        gate.resume()
        XCTAssertNil(gate.arrive(2, at: 1), "the model is still busy")
        XCTAssertFalse(gate.isResultWanted)
        XCTAssertFalse(gate.deliver {})
        XCTAssertEqual(gate.finish(), 2)
        XCTAssertTrue(gate.deliver {})
        XCTAssertNil(gate.finish())
        XCTAssertEqual(gate.counters, counters(offered: 2, accepted: 2, completed: 2, discarded: 1))
    }

    /// The app's pattern with a stop: frames keep arriving on one thread while the model loop runs on
    /// another, and `pause()` comes from a third. Once `pause()` has returned, neither `arrive` nor
    /// `finish` lets a frame out, `deliver` publishes no result, and every frame the gate counted is
    /// settled (none is left waiting; each finished one was published or discarded).
    func testNoFrameOrResultLeavesTheGateAfterPause() {
        let gate = FrameGate<Int>(targetFPS: 1_000_000)
        let overlap = OverlapMeter()
        let paused = Counter()
        let leftAfterPause = Counter()
        let published = Counter()
        let publishedAfterPause = Counter()
        let frameCount = 2000
        runModelLoop(
            gate, frames: frameCount, overlap: overlap,
            pauseAt: frameCount / 2, paused: paused, leftAfterPause: leftAfterPause
        ) {
            gate.deliver {
                published.increment()
                if paused.value > 0 {
                    publishedAfterPause.increment()
                }
            }
        }
        let counters = gate.counters
        XCTAssertTrue(gate.isPaused)
        XCTAssertEqual(leftAfterPause.value, 0, "no frame may reach the model once paused")
        XCTAssertEqual(publishedAfterPause.value, 0, "no result may be published once paused")
        XCTAssertEqual(overlap.most, 1)
        XCTAssertLessThanOrEqual(counters.offered, frameCount)
        XCTAssertEqual(counters.completed, counters.accepted)
        XCTAssertEqual(counters.accepted + counters.droppedBusy, counters.offered, "no frame is left waiting")
        XCTAssertEqual(counters.droppedEarly, 0)
        XCTAssertEqual(published.value + counters.discarded, counters.completed, "a finished frame is published or discarded")
        XCTAssertLessThanOrEqual(counters.discarded, 1, "only the frame in the model at pause() is discarded")
    }
}
