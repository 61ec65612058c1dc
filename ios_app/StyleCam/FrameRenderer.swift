import CoreVideo
import Metal
import MetalKit
import StyleCamCore
import UIKit

/// Draws the latest stylized frame (a BGRA CVPixelBuffer) into an MTKView, aspect-fitted and rotated
/// for the interface orientation, through the pass-through shaders in Shaders.metal.
///
/// The inference queue puts frames into `mailbox` and then asks the main actor to `drawLatestFrame()`.
@MainActor
final class FrameRenderer: NSObject, MTKViewDelegate {
    let device: MTLDevice
    private let commandQueue: MTLCommandQueue
    private let pipelineState: MTLRenderPipelineState
    private let textureCache: CVMetalTextureCache
    private let statistics: LiveStatistics
    let mailbox = LatestFrameMailbox<CVPixelBuffer>()
    private weak var view: MTKView?

    init(statistics: LiveStatistics) throws {
        guard let device = MTLCreateSystemDefaultDevice(), let commandQueue = device.makeCommandQueue() else {
            throw RendererError.noMetal
        }
        guard let library = device.makeDefaultLibrary(),
              let vertexFunction = library.makeFunction(name: "passthroughVertex"),
              let fragmentFunction = library.makeFunction(name: "passthroughFragment") else {
            throw RendererError.missingShaders
        }
        let descriptor = MTLRenderPipelineDescriptor()
        descriptor.vertexFunction = vertexFunction
        descriptor.fragmentFunction = fragmentFunction
        descriptor.colorAttachments[0].pixelFormat = .bgra8Unorm
        var cache: CVMetalTextureCache?
        guard CVMetalTextureCacheCreate(kCFAllocatorDefault, nil, device, nil, &cache) == kCVReturnSuccess,
              let textureCache = cache else {
            throw RendererError.noTextureCache
        }
        self.device = device
        self.commandQueue = commandQueue
        self.pipelineState = try device.makeRenderPipelineState(descriptor: descriptor)
        self.textureCache = textureCache
        self.statistics = statistics
    }

    /// Makes `view` draw on demand: when a new frame is in the mailbox and when its size changes.
    func attach(to view: MTKView) {
        view.device = device
        view.delegate = self
        view.colorPixelFormat = .bgra8Unorm
        view.framebufferOnly = true
        view.isPaused = true
        view.enableSetNeedsDisplay = false
        view.clearColor = MTLClearColor(red: 0, green: 0, blue: 0, alpha: 1)
        self.view = view
    }

    func drawLatestFrame() {
        view?.draw()
    }

    func clear() {
        mailbox.clear()
        view?.draw()
    }

    func mtkView(_ view: MTKView, drawableSizeWillChange size: CGSize) {
        Task { [weak view] in
            view?.draw()
        }
    }

    func draw(in view: MTKView) {
        let (frame, isNew) = mailbox.take()
        guard let passDescriptor = view.currentRenderPassDescriptor,
              let drawable = view.currentDrawable,
              let commandBuffer = commandQueue.makeCommandBuffer(),
              let encoder = commandBuffer.makeRenderCommandEncoder(descriptor: passDescriptor) else {
            return
        }
        var frameTexture: CVMetalTexture?
        if let frame, let texture = makeTexture(from: frame, holding: &frameTexture) {
            let rotation = DisplayRotation.forBackCamera(in: InterfaceOrientation(view.window?.windowScene?.interfaceOrientation))
            let quad = DisplayQuad.vertices(
                frame: CGSize(width: texture.width, height: texture.height),
                drawable: view.drawableSize,
                rotation: rotation
            )
            var vertexData = quad.flatMap { [$0.x, $0.y, $0.u, $0.v] }
            if !vertexData.isEmpty {
                encoder.setRenderPipelineState(pipelineState)
                encoder.setVertexBytes(&vertexData, length: vertexData.count * MemoryLayout<Float>.stride, index: 0)
                encoder.setFragmentTexture(texture, index: 0)
                encoder.drawPrimitives(type: .triangleStrip, vertexStart: 0, vertexCount: quad.count)
            }
        }
        encoder.endEncoding()
        commandBuffer.present(drawable)
        let textureInUse = frameTexture
        commandBuffer.addCompletedHandler { _ in
            withExtendedLifetime(textureInUse) {}
        }
        commandBuffer.commit()
        if isNew {
            statistics.recordDisplayedFrame(at: CACurrentMediaTime())
        }
    }

    /// A Metal texture sharing `frame`'s memory; `holder` keeps it valid until the GPU is done.
    private func makeTexture(from frame: CVPixelBuffer, holding holder: inout CVMetalTexture?) -> MTLTexture? {
        let status = CVMetalTextureCacheCreateTextureFromImage(
            kCFAllocatorDefault,
            textureCache,
            frame,
            nil,
            .bgra8Unorm,
            CVPixelBufferGetWidth(frame),
            CVPixelBufferGetHeight(frame),
            0,
            &holder
        )
        guard status == kCVReturnSuccess, let holder else { return nil }
        return CVMetalTextureGetTexture(holder)
    }
}

enum RendererError: Error, CustomStringConvertible {
    case noMetal
    case missingShaders
    case noTextureCache

    var description: String {
        switch self {
        case .noMetal: return "This device has no Metal GPU."
        case .missingShaders: return "The app was built without its Metal shaders (Shaders.metal)."
        case .noTextureCache: return "Cannot create a Metal texture cache for the camera frames."
        }
    }
}
