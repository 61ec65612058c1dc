import XCTest
@testable import StyleCamCore

final class PauseEpochTests: XCTestCase {
    func testOnlyTheFrameInTheModelHasAWantedResult() {
        var epoch = PauseEpoch()
        XCTAssertFalse(epoch.isResultWanted)
        epoch.enter()
        XCTAssertTrue(epoch.isResultWanted)
        epoch.leave()
        XCTAssertFalse(epoch.isResultWanted)
        XCTAssertEqual(epoch.discarded, 0)
    }

    func testAFrameInTheModelAtPauseIsDiscardedWhenItLeaves() {
        var epoch = PauseEpoch()
        epoch.enter()
        epoch.pause()
        XCTAssertFalse(epoch.isResultWanted)
        epoch.leave()
        XCTAssertEqual(epoch.discarded, 1)
        epoch.enter()
        XCTAssertTrue(epoch.isResultWanted, "a frame that goes in after the pause takes the new epoch")
        epoch.leave()
        XCTAssertEqual(epoch.discarded, 1)
    }

    func testADeliveredResultIsNeitherWantedAgainNorDiscarded() {
        var epoch = PauseEpoch()
        epoch.enter()
        epoch.markDelivered()
        XCTAssertFalse(epoch.isResultWanted)
        epoch.pause()
        epoch.leave()
        XCTAssertEqual(epoch.discarded, 0)
    }

    func testAPauseWithNoFrameInTheModelDiscardsNothing() {
        var epoch = PauseEpoch()
        epoch.pause()
        epoch.pause()
        epoch.enter()
        XCTAssertTrue(epoch.isResultWanted)
        epoch.leave()
        XCTAssertEqual(epoch.discarded, 0)
    }
}
