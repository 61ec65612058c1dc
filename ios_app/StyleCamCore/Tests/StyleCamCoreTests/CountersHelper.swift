@testable import StyleCamCore

/// The counters a test expects, naming only the fields that are not zero.
func counters(
    offered: Int = 0,
    accepted: Int = 0,
    droppedBusy: Int = 0,
    droppedEarly: Int = 0,
    completed: Int = 0,
    discarded: Int = 0
) -> FrameCounters {
    var counters = FrameCounters()
    counters.offered = offered
    counters.accepted = accepted
    counters.droppedBusy = droppedBusy
    counters.droppedEarly = droppedEarly
    counters.completed = completed
    counters.discarded = discarded
    return counters
}
