import XCTest
@testable import StyleCamCore

final class LatestFrameMailboxTests: XCTestCase {
    func testTakeReturnsTheLatestValueOnceAsNew() {
        let mailbox = LatestFrameMailbox<Int>()
        XCTAssertNil(mailbox.take().value)
        mailbox.put(1)
        mailbox.put(2)
        let first = mailbox.take()
        XCTAssertEqual(first.value, 2)
        XCTAssertTrue(first.isNew)
        let redraw = mailbox.take()
        XCTAssertEqual(redraw.value, 2)
        XCTAssertFalse(redraw.isNew)
        XCTAssertEqual(mailbox.unseenReplacements, 1)
    }

    func testClearEmptiesTheMailbox() {
        let mailbox = LatestFrameMailbox<String>()
        mailbox.put("frame")
        mailbox.clear()
        let taken = mailbox.take()
        XCTAssertNil(taken.value)
        XCTAssertFalse(taken.isNew)
    }

    func testConcurrentProducersNeverLoseTheCount() {
        let mailbox = LatestFrameMailbox<Int>()
        DispatchQueue.concurrentPerform(iterations: 1000) { index in
            mailbox.put(index)
        }
        XCTAssertEqual(mailbox.unseenReplacements, 999)
        XCTAssertTrue(mailbox.take().isNew)
    }
}
