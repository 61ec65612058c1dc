import XCTest
@testable import StyleCamCore

final class PauseEpochTests: XCTestCase {
    func testOnlyTheFrameInTheModelHasAWantedResult() {
        var epoch = PauseEpoch()
        XCTAssertFalse(epoch.isResultWanted)
        runFrame(&epoch, thenDiscarded: 0)
    }

    func testAFrameInTheModelAtPauseIsDiscardedWhenItLeaves() {
        var epoch = PauseEpoch()
        runFrame(&epoch, pausing: true, thenDiscarded: 1)
        runFrame(&epoch, thenDiscarded: 1, "a frame that goes in after the pause takes the new epoch")
    }

    func testADeliveredResultIsNeitherWantedAgainNorDiscarded() {
        var epoch = PauseEpoch()
        runFrame(&epoch, delivering: true, pausing: true, thenDiscarded: 0)
    }

    func testAPauseWithNoFrameInTheModelDiscardsNothing() {
        var epoch = PauseEpoch()
        epoch.pause()
        epoch.pause()
        runFrame(&epoch, thenDiscarded: 0)
    }

    /// One frame through `epoch`: it enters and its result is wanted (`message` says why); if
    /// `delivering`, its result is delivered and no longer wanted; if `pausing`, `pause()` comes while it
    /// is in the model and its result is not wanted; it leaves, after which no result is wanted and
    /// `discarded` is `expected`.
    private func runFrame(
        _ epoch: inout PauseEpoch,
        delivering: Bool = false,
        pausing: Bool = false,
        thenDiscarded expected: Int,
        _ message: String = "",
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        epoch.enter()
        XCTAssertTrue(epoch.isResultWanted, message, file: file, line: line)
        if delivering {
            epoch.markDelivered()
            XCTAssertFalse(epoch.isResultWanted, "a delivered result is not wanted again", file: file, line: line)
        }
        if pausing {
            epoch.pause()
            XCTAssertFalse(epoch.isResultWanted, "no result is wanted after pause()", file: file, line: line)
        }
        epoch.leave()
        XCTAssertFalse(epoch.isResultWanted, "no frame is in the model", file: file, line: line)
        XCTAssertEqual(epoch.discarded, expected, file: file, line: line)
    }
}
