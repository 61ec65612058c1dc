import Foundation

/// A thread-safe `LateFramePacer` for the camera callback queue and the inference queue to share.
///
/// Frames pass from the thread that calls `arrive` to the one that calls `finish`, so `Frame` must be
/// safe to hand between threads (Core Video buffers are: reference-counted and thread-safe).
///
/// `pause()` stops new frames reaching the model, for when the camera stops: the waiting frame is
/// released (so the camera gets its buffer back) and counted as dropped, frames that still arrive are
/// refused and not counted at all (they are not the camera's live output, so `offered` stays the frames
/// the gate saw while running), and the frame in the model, if any, finishes without a successor and
/// its result is not published (`deliver` refuses it, and it is counted as discarded), even if
/// `resume()` comes before it finishes. `resume()` lets frames in again, paced as before.
public final class FrameGate<Frame>: @unchecked Sendable {
    private let lock = NSLock()
    private var pacer: LateFramePacer<Frame>
    private var epoch = PauseEpoch()
    private var paused = false

    public init(targetFPS: Double, toleranceFraction: Double = 0.1) {
        pacer = LateFramePacer(targetFPS: targetFPS, toleranceFraction: toleranceFraction)
    }

    /// The frame to run now, or nil: it waits for the model (replacing an older waiting one), is too
    /// early, or the gate is paused (the frame is then refused: neither kept nor counted).
    public func arrive(_ frame: Frame, at time: TimeInterval) -> Frame? {
        lock.lock()
        defer { lock.unlock() }
        guard !paused else { return nil }
        return admitted(pacer.arrive(frame, at: time))
    }

    /// The model has finished its frame: the waiting frame to run at once, or nil (the model is idle).
    /// While paused nothing waits, so this only marks the model idle.
    public func finish() -> Frame? {
        lock.lock()
        defer { lock.unlock() }
        epoch.leave()
        return admitted(pacer.finish())
    }

    /// Whether the result of the frame in the model is still wanted: it was not delivered yet and no
    /// `pause()` came since the frame went in. When it is not, the model need not run the frame at all.
    public var isResultWanted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return epoch.isResultWanted
    }

    /// Runs `publish` with the result of the frame in the model (call it before `finish()`), unless a
    /// `pause()` came since the frame went in or its result was already delivered; returns whether it
    /// ran. `publish` runs under the gate's lock, so once `pause()` has returned no result of an earlier
    /// frame is published; it must not call the gate.
    @discardableResult
    public func deliver(_ publish: () -> Void) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard epoch.isResultWanted else { return false }
        publish()
        epoch.markDelivered()
        return true
    }

    /// Releases the waiting frame (counted as dropped), refuses frames until `resume()`, and makes the
    /// result of the frame in the model unwanted (counted as discarded when it finishes).
    public func pause() {
        lock.lock()
        defer { lock.unlock() }
        paused = true
        epoch.pause()
        pacer.dropWaiting()
    }

    /// Lets frames in again after `pause()`.
    public func resume() {
        lock.lock()
        defer { lock.unlock() }
        paused = false
    }

    /// Whether `pause()` was called without a `resume()` since.
    public var isPaused: Bool {
        lock.lock()
        defer { lock.unlock() }
        return paused
    }

    public var counters: FrameCounters {
        lock.lock()
        defer { lock.unlock() }
        var counters = pacer.counters
        counters.discarded = epoch.discarded
        return counters
    }

    /// Marks a frame the pacer let into the model with the current pause epoch.
    private func admitted(_ frame: Frame?) -> Frame? {
        if frame != nil {
            epoch.enter()
        }
        return frame
    }
}
