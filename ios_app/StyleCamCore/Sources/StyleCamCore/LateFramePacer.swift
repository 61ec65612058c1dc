import Foundation

/// A `FramePacer` with AVFoundation's late-frame slot in front of it.
///
/// With `alwaysDiscardsLateVideoFrames`, AVFoundation keeps the newest frame that arrives while the
/// delegate is busy and hands it over the moment the delegate returns. This does the same for the
/// model: a frame that arrives while the model is busy waits in a one-frame slot (a newer frame
/// replaces it, and the older one is released and counted as dropped), and when the model finishes,
/// the waiting frame is offered to the pacer at once instead of the model idling until the next
/// camera frame. For a model slower than the camera interval that saves half a camera interval per
/// frame on average. A frame waits only while the model is busy: `finish()` always empties the slot.
///
/// Every frame given to `arrive` is returned once to be run (by `arrive` or by `finish`), counted as
/// dropped (replaced by a newer frame, thrown away by `dropWaiting`, or too early), or still waiting.
/// Not thread-safe; `FrameGate` shares one between threads.
public struct LateFramePacer<Frame> {
    private var pacer: FramePacer
    private var waiting: (frame: Frame, time: TimeInterval)?
    private var discarded = 0

    public init(targetFPS: Double, toleranceFraction: Double = 0.1) {
        pacer = FramePacer(targetFPS: targetFPS, toleranceFraction: toleranceFraction)
    }

    /// Whether a frame is in the model.
    public var isBusy: Bool { pacer.isBusy }

    /// Whether a frame is waiting for the model to finish.
    public var hasWaitingFrame: Bool { waiting != nil }

    /// What became of the frames so far. The pacer sees only the frames offered to it (those arriving
    /// while the model is idle, and the waiting ones it is handed); the others are replaced, thrown
    /// away by `dropWaiting` (both counted in `droppedBusy`) or waiting.
    public var counters: FrameCounters {
        var counters = pacer.counters
        counters.offered += discarded + (waiting == nil ? 0 : 1)
        counters.droppedBusy += discarded
        return counters
    }

    /// Offers `frame`, captured at `time` (seconds, any monotonic clock). Returns it when the model is to
    /// run it now (the model is then busy), or nil: it waits for the model, or it is too early.
    public mutating func arrive(_ frame: Frame, at time: TimeInterval) -> Frame? {
        guard pacer.isBusy else {
            return admit(frame, at: time)
        }
        if waiting != nil {
            discarded += 1
        }
        waiting = (frame, time)
        return nil
    }

    /// Marks the frame in the model as done (stylized or failed). Returns the waiting frame when the
    /// model is to run it at once (the model stays busy), or nil: nothing waits, or it is too early.
    public mutating func finish() -> Frame? {
        pacer.finish()
        guard let late = waiting else { return nil }
        waiting = nil
        return admit(late.frame, at: late.time)
    }

    /// Releases the waiting frame, if any, counting it as dropped (it arrived while the model was busy
    /// and never reached it); `finish()` then hands nothing over. The frame in the model, if any, stays
    /// in it until `finish()`. Returns whether a frame was waiting.
    @discardableResult
    public mutating func dropWaiting() -> Bool {
        guard waiting != nil else { return false }
        waiting = nil
        discarded += 1
        return true
    }

    private mutating func admit(_ frame: Frame, at time: TimeInterval) -> Frame? {
        switch pacer.offer(at: time) {
        case .accept:
            return frame
        case .dropEarly:
            return nil
        case .dropBusy:
            preconditionFailure("a frame was offered while another is in the model")
        }
    }
}

extension LateFramePacer: Sendable where Frame: Sendable {}
