import Foundation

/// The one-line heads-up display: shown fps, model latency and dropped frames.
public enum HUDText {
    public static func line(framesPerSecond: Double?, latency: LatencyMeter, counters: FrameCounters) -> String {
        let fps = framesPerSecond.map { String(format: "%.1f fps", $0) } ?? "-- fps"
        let mean = latency.mean.map { String(format: "%.0f ms", $0 * 1000) } ?? "-- ms"
        let worst = latency.worst.map { String(format: "max %.0f ms", $0 * 1000) } ?? "max -- ms"
        return "\(fps) | \(mean) (\(worst)) | dropped \(counters.dropped)/\(counters.offered)"
    }
}
