import Foundation

/// What the pacer decided about one camera frame.
public enum FrameDecision: Equatable, Sendable {
    /// Run the model on this frame.
    case accept
    /// Drop it: the previous frame is still being stylized.
    case dropBusy
    /// Drop it: it arrived before the next frame is due at the target rate.
    case dropEarly
}

/// Decides which camera frames go to the model: at most one in flight, at most `targetFPS` a second.
///
/// Frames are due on a fixed schedule (one every `1 / targetFPS` seconds) so that a 30 or 60 fps camera
/// is thinned to the target rate without drifting. A frame up to `tolerance` before its due time is
/// accepted, which absorbs capture timestamp jitter. When the pipeline falls behind by more than one
/// interval, the schedule restarts from the frame that is accepted.
public struct FramePacer: Sendable {
    public let targetFPS: Double
    public let interval: TimeInterval
    public let tolerance: TimeInterval
    public private(set) var counters = FrameCounters()
    public private(set) var isBusy = false
    private var nextDue: TimeInterval?

    public init(targetFPS: Double, toleranceFraction: Double = 0.1) {
        precondition(targetFPS > 0, "targetFPS must be positive")
        precondition((0..<1).contains(toleranceFraction), "toleranceFraction must be in [0, 1)")
        self.targetFPS = targetFPS
        self.interval = 1 / targetFPS
        self.tolerance = interval * toleranceFraction
    }

    /// Offers the frame captured at `time` (seconds, any monotonic clock).
    public mutating func offer(at time: TimeInterval) -> FrameDecision {
        counters.offered += 1
        if isBusy {
            counters.droppedBusy += 1
            return .dropBusy
        }
        if let due = nextDue, time < due - tolerance {
            counters.droppedEarly += 1
            return .dropEarly
        }
        if let due = nextDue, time < due + interval {
            nextDue = due + interval
        } else {
            nextDue = time + interval
        }
        isBusy = true
        counters.accepted += 1
        return .accept
    }

    /// Marks the accepted frame as done (stylized or failed), so the next due frame can be accepted.
    public mutating func finish() {
        precondition(isBusy, "finish() called with no frame in flight")
        isBusy = false
        counters.completed += 1
    }
}
