import Foundation

/// Whether the result of the frame in the model is still wanted, after the camera may have stopped.
///
/// Each `pause()` starts a new epoch. A frame going into the model takes the current epoch; when its
/// result arrives, the result is wanted only while the epoch is still the same, and only once. A frame
/// whose result was not delivered and that was in the model when `pause()` came is counted as
/// discarded when it leaves. At most one frame is in the model (the pacer's rule), so one remembered
/// epoch is enough.
///
/// Not thread-safe; `FrameGate` keeps one under its lock.
struct PauseEpoch: Sendable {
    private var current = 0
    /// The epoch the frame in the model went in at, until its result is delivered or it leaves.
    private var pending: Int?
    /// Frames that left the model, undelivered, after a `pause()` that came while they were in it.
    private(set) var discarded = 0

    /// A frame goes into the model.
    mutating func enter() {
        pending = current
    }

    /// The camera stops: the frame in the model, if any, no longer has a wanted result.
    mutating func pause() {
        current &+= 1
    }

    /// Whether a frame is in the model, its result not yet delivered, and no `pause()` came since it
    /// went in.
    var isResultWanted: Bool {
        pending == current
    }

    /// The result of the frame in the model was delivered (call only while `isResultWanted`).
    mutating func markDelivered() {
        pending = nil
    }

    /// The frame in the model is done.
    mutating func leave() {
        if let epoch = pending, epoch != current {
            discarded += 1
        }
        pending = nil
    }
}
