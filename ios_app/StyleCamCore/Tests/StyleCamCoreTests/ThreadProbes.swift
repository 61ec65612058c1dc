import Foundation

// Thread-safe probes for the tests that drive a FrameGate from several threads.

/// Counts the model runs that overlap; the most at once must be one.
final class OverlapMeter: @unchecked Sendable {
    private let lock = NSLock()
    private var running = 0
    private(set) var most = 0

    func begin() {
        lock.lock()
        defer { lock.unlock() }
        running += 1
        most = max(most, running)
    }

    func end() {
        lock.lock()
        defer { lock.unlock() }
        running -= 1
    }
}

/// A count that several threads increment and read.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    func increment() {
        lock.lock()
        defer { lock.unlock() }
        count += 1
    }
}
