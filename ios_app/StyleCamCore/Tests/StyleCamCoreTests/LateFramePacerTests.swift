import XCTest
@testable import StyleCamCore

/// The cases of the emulator's `tests/emulator/test_gate.py` for `CameraQueue`, at the app's 10% tolerance.
final class LateFramePacerTests: XCTestCase {
    private struct Run: Equatable {
        let start: Double
        let index: Int
    }

    private final class Buffer {}

    /// Feeds `count` frames from a `cameraFPS` camera; each run keeps the model busy `latency` seconds, and
    /// when it finishes, the frame that `finish()` hands over starts at once.
    private func simulate(cameraFPS: Double, count: Int, latency: Double, targetFPS: Double = 15) -> (runs: [Run], pacer: LateFramePacer<Int>) {
        var pacer = LateFramePacer<Int>(targetFPS: targetFPS)
        var runs: [Run] = []
        var freeAt: Double?
        for index in 0..<count {
            let time = Double(index) / cameraFPS
            while let end = freeAt, end <= time {
                freeAt = nil
                if let late = pacer.finish() {
                    runs.append(Run(start: end, index: late))
                    freeAt = end + latency
                }
            }
            if let frame = pacer.arrive(index, at: time) {
                runs.append(Run(start: time, index: frame))
                freeAt = time + latency
            }
        }
        return (runs, pacer)
    }

    /// How many frames the same camera and model run under the old rule, `FramePacer` alone: a frame that
    /// arrives while the model is busy is dropped, and the model waits for the next camera frame.
    private func runsWithoutHandOver(cameraFPS: Double, count: Int, latency: Double, targetFPS: Double = 15) -> Int {
        var pacer = FramePacer(targetFPS: targetFPS)
        var runs = 0
        var freeAt: Double?
        for index in 0..<count {
            let time = Double(index) / cameraFPS
            if let end = freeAt, end <= time {
                pacer.finish()
                freeAt = nil
            }
            if pacer.offer(at: time) == .accept {
                runs += 1
                freeAt = time + latency
            }
        }
        return runs
    }

    private func assertEveryFrameSettled(_ pacer: LateFramePacer<Int>, file: StaticString = #filePath, line: UInt = #line) {
        let counters = pacer.counters
        XCTAssertEqual(counters.offered, counters.accepted + counters.dropped + (pacer.hasWaitingFrame ? 1 : 0), file: file, line: line)
    }

    func testTheNewestLateFrameRunsWhenTheModelFinishes() {
        var pacer = LateFramePacer<Int>(targetFPS: 15)
        XCTAssertEqual(pacer.arrive(1, at: 0), 1)
        XCTAssertNil(pacer.arrive(2, at: 0.04))
        XCTAssertNil(pacer.arrive(3, at: 0.07))
        XCTAssertTrue(pacer.hasWaitingFrame)
        XCTAssertEqual(pacer.finish(), 3)
        XCTAssertTrue(pacer.isBusy)
        XCTAssertFalse(pacer.hasWaitingFrame)
        XCTAssertNil(pacer.finish())
        XCTAssertFalse(pacer.isBusy)
        XCTAssertEqual(pacer.counters, counters(offered: 3, accepted: 2, droppedBusy: 1, completed: 2))
    }

    func testAReplacedFrameIsReleased() {
        var pacer = LateFramePacer<Buffer>(targetFPS: 15)
        XCTAssertNotNil(pacer.arrive(Buffer(), at: 0))
        weak var replaced: Buffer?
        do {
            let buffer = Buffer()
            replaced = buffer
            XCTAssertNil(pacer.arrive(buffer, at: 0.04))
        }
        XCTAssertNotNil(replaced, "the waiting frame is kept")
        XCTAssertNil(pacer.arrive(Buffer(), at: 0.07))
        XCTAssertNil(replaced, "the frame a newer one replaces must be released")
    }

    func testDroppingTheWaitingFrameReleasesAndCountsIt() {
        var pacer = LateFramePacer<Buffer>(targetFPS: 15)
        XCTAssertFalse(pacer.dropWaiting(), "nothing waits yet")
        XCTAssertNotNil(pacer.arrive(Buffer(), at: 0))
        weak var dropped: Buffer?
        do {
            let buffer = Buffer()
            dropped = buffer
            XCTAssertNil(pacer.arrive(buffer, at: 0.07))
        }
        XCTAssertTrue(pacer.dropWaiting())
        XCTAssertNil(dropped, "the dropped frame must be released")
        XCTAssertFalse(pacer.hasWaitingFrame)
        XCTAssertTrue(pacer.isBusy, "the frame in the model stays there")
        XCTAssertNil(pacer.finish())
        XCTAssertFalse(pacer.isBusy)
        XCTAssertEqual(pacer.counters, counters(offered: 2, accepted: 1, droppedBusy: 1, completed: 1))
    }

    func testALateFrameTooEarlyForThePaceIsDropped() {
        var pacer = LateFramePacer<Int>(targetFPS: 15)
        XCTAssertEqual(pacer.arrive(1, at: 0), 1)
        XCTAssertNil(pacer.arrive(2, at: 0.02))
        XCTAssertNil(pacer.finish())
        XCTAssertFalse(pacer.isBusy)
        XCTAssertFalse(pacer.hasWaitingFrame)
        XCTAssertEqual(pacer.counters.droppedEarly, 1)
        XCTAssertEqual(pacer.arrive(3, at: 1.0 / 15), 3)
    }

    func testWhenTheModelFreesUpTheLateFrameRunsAtOnce() {
        // A 30 fps camera and a 50 ms model, pacing out of the way: frame 1 (33 ms) waits and runs when the
        // model frees up at 50 ms, frame 2 at 100 ms; frame 3 is still waiting when the camera stops.
        let (runs, pacer) = simulate(cameraFPS: 30, count: 4, latency: 0.05, targetFPS: 1000)
        XCTAssertEqual(runs.map(\.index), [0, 1, 2])
        for (run, start) in zip(runs, [0, 0.05, 0.1]) {
            XCTAssertEqual(run.start, start, accuracy: 1e-9)
        }
        XCTAssertTrue(pacer.hasWaitingFrame)
        XCTAssertEqual(pacer.counters.dropped, 0)
        assertEveryFrameSettled(pacer)
        // The old rule drops frames 1 and 3, which arrive while the model is busy, and waits for frame 2.
        XCTAssertEqual(runsWithoutHandOver(cameraFPS: 30, count: 4, latency: 0.05, targetFPS: 1000), 2)
    }

    func testASlowModelRunsBackToBackOnFreshFrames() {
        // A 110 ms model on a 30 fps camera runs back to back, each time on a frame at most one camera
        // interval old: 9.1 fps, where waiting for the next frame after each run gives 7.5 fps.
        let (runs, pacer) = simulate(cameraFPS: 30, count: 300, latency: 0.11)
        XCTAssertEqual(runs.count, 91)
        XCTAssertEqual(runsWithoutHandOver(cameraFPS: 30, count: 300, latency: 0.11), 75)
        XCTAssertEqual(Set(runs.map(\.index)).count, runs.count)
        for (previous, next) in zip(runs, runs.dropFirst()) {
            XCTAssertEqual(next.start - previous.start, 0.11, accuracy: 1e-9)
        }
        for run in runs {
            XCTAssertLessThan(run.start - Double(run.index) / 30, 1.0 / 30 + 1e-9)
        }
        XCTAssertEqual(pacer.counters.accepted, runs.count)
        assertEveryFrameSettled(pacer)
    }

    func testAModelJustSlowerThanThePaceKeepsItsRate() {
        // 70 ms a frame against the 67 ms pace: 14.3 fps with the hand-over, 10 fps without it.
        let (runs, pacer) = simulate(cameraFPS: 30, count: 300, latency: 0.07)
        XCTAssertEqual(runs.count, 143)
        XCTAssertEqual(runsWithoutHandOver(cameraFPS: 30, count: 300, latency: 0.07), 100)
        assertEveryFrameSettled(pacer)
    }

    func testALateFrameStillObeysThePace() {
        // A 40 ms model on a 60 fps camera paced to 15 fps: of the frames at 17 and 33 ms, the newer waits
        // and, handed over at 40 ms, is too early for the 67 ms slot; so is the one at 50 ms.
        let (runs, pacer) = simulate(cameraFPS: 60, count: 60, latency: 0.04)
        XCTAssertEqual(runs.map(\.index), Array(stride(from: 0, to: 60, by: 4)))
        XCTAssertEqual(pacer.counters, counters(offered: 60, accepted: 15, droppedBusy: 15, droppedEarly: 30, completed: 15))
        XCTAssertFalse(pacer.hasWaitingFrame)
    }

    func testAFastModelIsOnlyPaced() {
        let (runs, pacer) = simulate(cameraFPS: 30, count: 300, latency: 0.02)
        XCTAssertEqual(runs.count, 150)
        XCTAssertEqual(pacer.counters.droppedEarly, 150)
        XCTAssertEqual(pacer.counters.droppedBusy, 0)
    }
}
