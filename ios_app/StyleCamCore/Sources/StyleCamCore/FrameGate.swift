import Foundation

/// A thread-safe `FramePacer` for the camera callback queue and the inference queue to share.
public final class FrameGate: @unchecked Sendable {
    private let lock = NSLock()
    private var pacer: FramePacer

    public init(targetFPS: Double, toleranceFraction: Double = 0.1) {
        pacer = FramePacer(targetFPS: targetFPS, toleranceFraction: toleranceFraction)
    }

    public func offer(at time: TimeInterval) -> FrameDecision {
        lock.lock()
        defer { lock.unlock() }
        return pacer.offer(at: time)
    }

    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        pacer.finish()
    }

    public var counters: FrameCounters {
        lock.lock()
        defer { lock.unlock() }
        return pacer.counters
    }
}
