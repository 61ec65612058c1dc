import Foundation
@testable import StyleCamCore

/// Drives `gate` the way the app does, for the tests that run it from several threads: frames
/// `0..<frameCount` arrive one after another on the calling thread (frame `index` at time `index`), and
/// each frame the gate lets in starts a model loop on a concurrent queue, which runs frames (20 µs each,
/// measured by `overlap`) until `finish()` hands nothing over. The loops do not wait for each other, so a
/// frame let in while another is in the model would overlap with it. Returns once every loop has ended.
///
/// With `pauseAt`, `gate.pause()` is called from a third thread just before frame `pauseAt` arrives and
/// `paused` is incremented once it has returned (that is waited for too); `leftAfterPause` counts the
/// frames that `arrive` or `finish` let out in a call that began after `paused` was incremented.
/// `afterRun` runs in the model loop after each frame's run, before its `finish()`.
func runModelLoop(
    _ gate: FrameGate<Int>,
    frames frameCount: Int,
    overlap: OverlapMeter,
    pauseAt pauseIndex: Int? = nil,
    paused: Counter = Counter(),
    leftAfterPause: Counter = Counter(),
    afterRun: @escaping @Sendable () -> Void = {}
) {
    let model = DispatchQueue(label: "FrameGateTests.model", attributes: .concurrent)
    let group = DispatchGroup()
    for index in 0..<frameCount {
        if index == pauseIndex {
            DispatchQueue.global().async(group: group) {
                gate.pause()
                paused.increment()
            }
        }
        let pausedBefore = paused.value > 0
        guard let frame = gate.arrive(index, at: Double(index)) else { continue }
        if pausedBefore {
            leftAfterPause.increment()
        }
        group.enter()
        model.async {
            var next: Int? = frame
            while next != nil {
                overlap.begin()
                usleep(20)
                overlap.end()
                afterRun()
                let pausedBeforeFinish = paused.value > 0
                next = gate.finish()
                if pausedBeforeFinish && next != nil {
                    leftAfterPause.increment()
                }
            }
            group.leave()
        }
    }
    group.wait()
}
