import Foundation

/// Frames per second over a sliding time window, from the times frames were shown.
public struct FPSMeter: Sendable {
    public let window: TimeInterval
    private var timestamps: [TimeInterval] = []

    public init(window: TimeInterval = 1.0) {
        precondition(window > 0, "window must be positive")
        self.window = window
    }

    public mutating func record(at time: TimeInterval) {
        timestamps.append(time)
        let oldest = time - window
        if let firstKept = timestamps.firstIndex(where: { $0 >= oldest }), firstKept > 0 {
            timestamps.removeFirst(firstKept)
        }
    }

    /// Frames per second over the window; nil until two frames fall inside it.
    public var framesPerSecond: Double? {
        guard timestamps.count >= 2, let first = timestamps.first, let last = timestamps.last, last > first else {
            return nil
        }
        return Double(timestamps.count - 1) / (last - first)
    }
}
