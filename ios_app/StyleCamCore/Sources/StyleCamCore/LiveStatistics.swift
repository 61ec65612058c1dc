import Foundation

/// Thread-safe figures for the HUD: the inference queue records model latency, the renderer records
/// the times new stylized frames reach the screen, the main thread reads the HUD line.
public final class LiveStatistics: @unchecked Sendable {
    private let lock = NSLock()
    private var displayed: FPSMeter
    private var latency: LatencyMeter

    public init(fpsWindow: TimeInterval = 1.0, latencySamples: Int = 30) {
        displayed = FPSMeter(window: fpsWindow)
        latency = LatencyMeter(capacity: latencySamples)
    }

    public func recordLatency(_ seconds: TimeInterval) {
        lock.lock()
        defer { lock.unlock() }
        latency.record(seconds)
    }

    public func recordDisplayedFrame(at time: TimeInterval) {
        lock.lock()
        defer { lock.unlock() }
        displayed.record(at: time)
    }

    /// Frames per second shown over the window ending at the last recorded frame.
    public var displayedFramesPerSecond: Double? {
        lock.lock()
        defer { lock.unlock() }
        return displayed.framesPerSecond
    }

    public func hudLine(counters: FrameCounters) -> String {
        lock.lock()
        defer { lock.unlock() }
        return HUDText.line(framesPerSecond: displayed.framesPerSecond, latency: latency, counters: counters)
    }

    public func reset() {
        lock.lock()
        defer { lock.unlock() }
        displayed = FPSMeter(window: displayed.window)
        latency = LatencyMeter(capacity: latency.capacity)
    }
}
