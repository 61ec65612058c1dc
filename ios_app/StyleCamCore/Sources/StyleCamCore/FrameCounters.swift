import Foundation

/// How many frames the pacer has seen and what became of them.
public struct FrameCounters: Equatable, Sendable {
    /// Frames the camera delivered.
    public var offered = 0
    /// Frames the model was given.
    public var accepted = 0
    /// Frames that arrived while the model was busy and never reached it (with `LateFramePacer`: replaced
    /// by a newer frame while waiting).
    public var droppedBusy = 0
    /// Frames that came before the next frame was due at the target rate.
    public var droppedEarly = 0
    /// Frames the model finished with (stylized, failed, or discarded).
    public var completed = 0
    /// Frames that were in the model when `FrameGate.pause()` came (the camera stopped): whatever they
    /// produced was thrown away, not shown. They are counted in `completed` too.
    public var discarded = 0

    public init() {}

    public var dropped: Int { droppedBusy + droppedEarly }
}
