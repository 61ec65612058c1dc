import AVFoundation
import QuartzCore
import StyleCamCore

/// Camera frame in, stylized frame out: paces frames to the contract's rate, keeps at most one frame in
/// the model, runs it on a serial queue and hands the result to the renderer.
final class StylePipeline: NSObject, AVCaptureVideoDataOutputSampleBufferDelegate, @unchecked Sendable {
    let captureQueue = DispatchQueue(label: "StyleCam.capture", qos: .userInitiated)
    private let inferenceQueue = DispatchQueue(label: "StyleCam.inference", qos: .userInitiated)
    private let gate = FrameGate(targetFPS: Double(ModelContractConstants.fpsTarget))
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
        guard let model = currentModel, let cameraFrame = CMSampleBufferGetImageBuffer(sampleBuffer) else { return }
        let captureTime = CMTimeGetSeconds(CMSampleBufferGetPresentationTimeStamp(sampleBuffer))
        guard gate.offer(at: captureTime) == .accept else { return }
        // Handed over to the inference queue: Core Video buffers are thread-safe reference-counted
        // objects, and nothing here writes to the camera's buffer.
        nonisolated(unsafe) let frame = cameraFrame
        inferenceQueue.async { [self] in
            defer { gate.finish() }
            let start = CACurrentMediaTime()
            do {
                let stylized = try model.stylize(frame)
                statistics.recordLatency(CACurrentMediaTime() - start)
                frames?.put(stylized)
                requestDraw()
            } catch {
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
