import Foundation

/// A thread-safe `LateFramePacer` for the camera callback queue and the inference queue to share.
///
/// Frames pass from the thread that calls `arrive` to the one that calls `finish`, so `Frame` must be
/// safe to hand between threads (Core Video buffers are: reference-counted and thread-safe).
public final class FrameGate<Frame>: @unchecked Sendable {
    private let lock = NSLock()
    private var pacer: LateFramePacer<Frame>

    public init(targetFPS: Double, toleranceFraction: Double = 0.1) {
        pacer = LateFramePacer(targetFPS: targetFPS, toleranceFraction: toleranceFraction)
    }

    /// The frame to run now, or nil: it waits for the model (replacing an older waiting one) or is too early.
    public func arrive(_ frame: Frame, at time: TimeInterval) -> Frame? {
        lock.lock()
        defer { lock.unlock() }
        return pacer.arrive(frame, at: time)
    }

    /// The model has finished its frame: the waiting frame to run at once, or nil (the model is idle).
    public func finish() -> Frame? {
        lock.lock()
        defer { lock.unlock() }
        return pacer.finish()
    }

    public var counters: FrameCounters {
        lock.lock()
        defer { lock.unlock() }
        return pacer.counters
    }
}
