import AVFoundation
import QuartzCore
import StyleCamCore

/// Camera frame in, stylized frame out: paces frames to the contract's rate, keeps at most one frame in
/// the model, runs it on a serial queue and hands the result to the renderer.
///
/// While the model is busy, the gate keeps the newest camera frame (releasing the one it replaces, so the
/// camera gets that buffer back); when the model finishes, that frame runs at once, as AVFoundation hands
/// its late frame over, instead of the model waiting for the next camera frame.
///
/// `pause()` (when the camera stops) lets no further frame into the model: the waiting frame is released,
/// frames still coming from the capture queue are ignored, and the inference loop ends after the frame it
/// is running, whose result is then thrown away (the gate counts it as discarded) instead of being shown.
/// `resume()` (before the camera starts again) lets frames in again.
final class StylePipeline: NSObject, AVCaptureVideoDataOutputSampleBufferDelegate, @unchecked Sendable {
    let captureQueue = DispatchQueue(label: "StyleCam.capture", qos: .userInitiated)
    private let inferenceQueue = DispatchQueue(label: "StyleCam.inference", qos: .userInitiated)
    private let gate = FrameGate<CVPixelBuffer>(targetFPS: Double(ModelContractConstants.fpsTarget))
    private let statistics: LiveStatistics
    private let frames: LatestFrameMailbox<CVPixelBuffer>?
    private let requestDraw: @Sendable () -> Void
    private var errorHandler: (@Sendable (String) -> Void)?
    private let lock = NSLock()
    private var model: StyleModel?
    private var lastError: String?

    /// Stylized frames go into `frames`; `requestDraw` is called after each one (on the inference queue).
    init(statistics: LiveStatistics, frames: LatestFrameMailbox<CVPixelBuffer>?, requestDraw: @escaping @Sendable () -> Void) {
        self.statistics = statistics
        self.frames = frames
        self.requestDraw = requestDraw
    }

    /// Receives a readable message, once per distinct failure, on the inference queue.
    func onError(_ handler: @escaping @Sendable (String) -> Void) {
        lock.lock()
        errorHandler = handler
        lock.unlock()
    }

    var counters: FrameCounters { gate.counters }

    /// Stops frames reaching the model until `resume()`; the frame in the model, if any, finishes, but its
    /// result is not shown.
    func pause() {
        gate.pause()
    }

    /// Lets camera frames reach the model again.
    func resume() {
        gate.resume()
    }

    /// Switches the style; frames already in the model finish with the old one.
    func use(_ model: StyleModel?) {
        lock.lock()
        self.model = model
        lastError = nil
        lock.unlock()
        statistics.reset()
    }

    private var currentModel: StyleModel? {
        lock.lock()
        defer { lock.unlock() }
        return model
    }

    func captureOutput(_ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer, from connection: AVCaptureConnection) {
        guard currentModel != nil, let cameraFrame = CMSampleBufferGetImageBuffer(sampleBuffer) else { return }
        let captureTime = CMTimeGetSeconds(CMSampleBufferGetPresentationTimeStamp(sampleBuffer))
        // nil too while paused: frames that come between stop() and the session stopping are ignored.
        guard let accepted = gate.arrive(cameraFrame, at: captureTime) else { return }
        // Handed over to the inference queue: Core Video buffers are thread-safe reference-counted
        // objects, and nothing here writes to the camera's buffer.
        nonisolated(unsafe) let frame = accepted
        inferenceQueue.async { [self] in
            var next: CVPixelBuffer? = frame
            while let current = next {
                // A frame let in just before pause() is not stylized (it counts as completed and discarded).
                if gate.isResultWanted {
                    stylize(current)
                }
                // The newest frame that arrived meanwhile, if the pacer lets it run now; nil while paused.
                next = gate.finish()
            }
        }
    }

    /// Runs the current style on one camera frame and hands the result to the renderer, or reports the
    /// error; neither happens when pause() came while the model ran (the gate then refuses the result).
    private func stylize(_ cameraFrame: CVPixelBuffer) {
        guard let model = currentModel else { return }
        let start = CACurrentMediaTime()
        let result = Result { try model.stylize(cameraFrame) }
        let latency = CACurrentMediaTime() - start
        switch result {
        case .success(let stylized):
            gate.deliver {
                statistics.recordLatency(latency)
                frames?.put(stylized)
                requestDraw()
            }
        case .failure(let error):
            // The error handler runs outside the gate's lock: it is the app's code, and may call back.
            if gate.deliver({}) {
                report("Style \(model.name) failed: \(error)")
            }
        }
    }

    /// Reports each distinct error once, so a failing model does not flood the main thread.
    private func report(_ message: String) {
        lock.lock()
        let handler = message != lastError ? errorHandler : nil
        lastError = message
        lock.unlock()
        handler?(message)
    }
}
