import AVFoundation
import StyleCamCore

/// The back camera delivering landscape 1920x1080 BGRA frames to a sample-buffer delegate.
///
/// Sendable because the session and the output are only touched on `sessionQueue`.
final class CameraCapture: @unchecked Sendable {
    private let session = AVCaptureSession()
    private let sessionQueue = DispatchQueue(label: "StyleCam.session")
    private let videoOutput = AVCaptureVideoDataOutput()
    private var isConfigured = false

    /// Whether the user lets the app use the camera, asking the first time.
    static func requestAccess() async -> Bool {
        switch AVCaptureDevice.authorizationStatus(for: .video) {
        case .authorized:
            return true
        case .notDetermined:
            return await AVCaptureDevice.requestAccess(for: .video)
        default:
            return false
        }
    }

    /// Configures the session once, on the session queue; frames go to `delegate` on `queue` (serial).
    /// The delegate is handed to the session queue, so it must be safe to share between threads.
    func configure(delegate: any AVCaptureVideoDataOutputSampleBufferDelegate & Sendable, queue: DispatchQueue) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            sessionQueue.async {
                do {
                    try self.configureSession(delegate: delegate, queue: queue)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private func configureSession(delegate: AVCaptureVideoDataOutputSampleBufferDelegate, queue: DispatchQueue) throws {
        guard !isConfigured else { return }
        session.beginConfiguration()
        defer { session.commitConfiguration() }

        guard session.canSetSessionPreset(.hd1920x1080) else { throw CameraError.no1080p }
        session.sessionPreset = .hd1920x1080

        guard let camera = AVCaptureDevice.default(.builtInWideAngleCamera, for: .video, position: .back) else {
            throw CameraError.noCamera
        }
        let input = try AVCaptureDeviceInput(device: camera)
        guard session.canAddInput(input) else { throw CameraError.cannotAddInput }
        session.addInput(input)

        videoOutput.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_32BGRA]
        videoOutput.alwaysDiscardsLateVideoFrames = true
        videoOutput.setSampleBufferDelegate(delegate, queue: queue)
        guard session.canAddOutput(videoOutput) else { throw CameraError.cannotAddOutput }
        session.addOutput(videoOutput)
        isConfigured = true
    }

    func start() {
        sessionQueue.async {
            if !self.session.isRunning {
                self.session.startRunning()
            }
        }
    }

    func stop() {
        sessionQueue.async {
            if self.session.isRunning {
                self.session.stopRunning()
            }
        }
    }
}

enum CameraError: Error, CustomStringConvertible {
    case noCamera
    case no1080p
    case cannotAddInput
    case cannotAddOutput

    var description: String {
        switch self {
        case .noCamera:
            return "This device has no back camera."
        case .no1080p:
            return "The camera cannot deliver \(ModelContractConstants.cameraWidth)x\(ModelContractConstants.cameraHeight) video."
        case .cannotAddInput:
            return "The camera is in use by another app."
        case .cannotAddOutput:
            return "Cannot receive video frames from the camera."
        }
    }
}
