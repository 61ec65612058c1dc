import Foundation

/// Mean and worst latency over the most recent `capacity` measurements.
public struct LatencyMeter: Sendable {
    public let capacity: Int
    private var samples: [TimeInterval] = []

    public init(capacity: Int = 30) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
    }

    public mutating func record(_ seconds: TimeInterval) {
        samples.append(seconds)
        if samples.count > capacity {
            samples.removeFirst(samples.count - capacity)
        }
    }

    public var mean: TimeInterval? {
        samples.isEmpty ? nil : samples.reduce(0, +) / Double(samples.count)
    }

    public var worst: TimeInterval? {
        samples.max()
    }
}
