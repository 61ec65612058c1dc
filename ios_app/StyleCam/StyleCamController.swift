import StyleCamCore
import SwiftUI
import UIKit

/// Owns the camera, the pipeline and the renderer, and publishes what the screen shows.
@MainActor
final class StyleCamController: ObservableObject {
    @Published private(set) var styleNames: [String] = []
    @Published private(set) var selectedStyleName: String?
    @Published private(set) var hudLine: String
    @Published private(set) var message: String?

    let renderer: FrameRenderer?
    private let rendererError: String?
    private let statistics: LiveStatistics
    private let camera = CameraCapture()
    private let pipeline: StylePipeline
    private var entries: [CatalogEntry] = []
    private var selectionGeneration = 0
    private var isStarted = false

    init() {
        let statistics = LiveStatistics()
        let renderer: FrameRenderer?
        do {
            renderer = try FrameRenderer(statistics: statistics)
            rendererError = nil
        } catch {
            renderer = nil
            rendererError = String(describing: error)
        }
        self.statistics = statistics
        self.renderer = renderer
        pipeline = StylePipeline(statistics: statistics, frames: renderer?.mailbox) { [weak renderer] in
            Task { @MainActor in
                renderer?.drawLatestFrame()
            }
        }
        hudLine = statistics.hudLine(counters: FrameCounters())
        pipeline.onError { [weak self] message in
            Task { @MainActor in
                self?.message = message
            }
        }
    }

    func start() async {
        guard !isStarted else { return }
        isStarted = true
        if let rendererError {
            message = rendererError
            return
        }
        let catalog = BundledModels.catalog()
        entries = catalog.entries
        styleNames = entries.map(\.name)
        guard let firstStyle = entries.first else {
            message = Self.noModelMessage(problems: catalog.problems)
            return
        }
        guard await CameraCapture.requestAccess() else {
            message = "StyleCam needs the camera to show live styles.\nAllow it in Settings > Privacy & Security > Camera > StyleCam, then reopen the app."
            return
        }
        do {
            try await camera.configure(delegate: pipeline, queue: pipeline.captureQueue)
        } catch {
            message = "Cannot start the camera: \(error)"
            return
        }
        selectStyle(named: firstStyle.name)
        UIApplication.shared.isIdleTimerDisabled = true
        pipeline.resume()
        camera.start()
    }

    /// Stops the camera. The pipeline is paused first: the session stops asynchronously, and neither the
    /// frames it still delivers nor the one waiting for the model may be stylized once stopped; the
    /// result of the frame already in the model is not shown.
    func stop() {
        pipeline.pause()
        camera.stop()
        UIApplication.shared.isIdleTimerDisabled = false
        isStarted = false
    }

    /// Loads the style's model off the main thread; a later selection wins over an earlier one.
    func selectStyle(named name: String) {
        guard let entry = entries.first(where: { $0.name == name }), let resourceURL = Bundle.main.resourceURL else {
            return
        }
        selectionGeneration += 1
        let generation = selectionGeneration
        selectedStyleName = name
        message = nil
        Task.detached(priority: .userInitiated) { [weak self] in
            let result = Result { try StyleModel(entry: entry, resourceURL: resourceURL) }
            await self?.apply(result, generation: generation)
        }
    }

    func refreshHUD() {
        hudLine = statistics.hudLine(counters: pipeline.counters)
    }

    private func apply(_ result: Result<StyleModel, Error>, generation: Int) {
        guard generation == selectionGeneration else { return }
        switch result {
        case .success(let model):
            pipeline.use(model)
        case .failure(let error):
            pipeline.use(nil)
            renderer?.clear()
            message = "Cannot load style \(selectedStyleName ?? ""): \(error)"
        }
    }

    private static func noModelMessage(problems: [String]) -> String {
        var lines = [
            "No style model is bundled.",
            "Run `mobilestyle build --ios-app ios_app`: it copies NAME.mlmodel and NAME.contract.json into ios_app/StyleCam/Models/. Then build and run the app again.",
        ]
        lines += problems
        return lines.joined(separator: "\n")
    }
}
