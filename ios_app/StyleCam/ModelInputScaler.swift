import CoreGraphics
import CoreImage
import CoreVideo
import Metal
import StyleCamCore

/// Crops and scales camera frames to the model's input size on the GPU, into pooled buffers.
///
/// Core Image on a Metal context reads the camera's IOSurface-backed buffer where it is and renders
/// the 853x480 input straight into an IOSurface buffer from a `PixelBufferPool`, which Core ML then
/// reads in place: no pass over the pixels on the CPU and no allocation per frame. The downscale is
/// filtered (`highQualityDownsample`), like the emulator's area-then-bilinear resize, so the phone feeds
/// the model what the desktop does. Colour management is off: pixel values pass through unchanged, as
/// in the emulator and in training.
///
/// Why not Vision (`VNCoreMLRequest` with `imageCropAndScaleOption`): it scales the same way, but its
/// output arrives as a `VNPixelBufferObservation` in a buffer Vision allocates, so Core ML's
/// `outputBackings` (the pooled 1080p output the renderer draws without a copy) cannot be used.
final class ModelInputScaler: @unchecked Sendable {
    private let context: CIContext
    private let pool: PixelBufferPool
    private let aspect: Double

    /// Scales to `width` x `height` BGRA after a centre crop to `aspect` (width / height).
    init(width: Int, height: Int, aspect: Double) throws {
        guard let device = MTLCreateSystemDefaultDevice() else { throw ModelInputScalerError.noMetal }
        context = CIContext(mtlDevice: device, options: [
            .workingColorSpace: NSNull(),
            .outputColorSpace: NSNull(),
            .cacheIntermediates: false,
        ])
        pool = try PixelBufferPool(width: width, height: height, pixelFormat: kCVPixelFormatType_32BGRA)
        self.aspect = aspect
    }

    /// The model's input for `frame`; the GPU has finished writing it when this returns.
    func scale(_ frame: CVPixelBuffer) throws -> CVPixelBuffer {
        let target = CGSize(width: pool.width, height: pool.height)
        let scaling = InputScaling(
            frame: CGSize(width: CVPixelBufferGetWidth(frame), height: CVPixelBufferGetHeight(frame)),
            aspect: aspect,
            target: target
        )
        guard scaling.scaleX > 0, scaling.scaleY > 0 else { throw ModelInputScalerError.emptyFrame }
        let toInput = CGAffineTransform(translationX: -scaling.crop.minX, y: -scaling.crop.minY)
            .concatenating(CGAffineTransform(scaleX: scaling.scaleX, y: scaling.scaleY))
        let image = CIImage(cvPixelBuffer: frame, options: [.colorSpace: NSNull()])
            .cropped(to: scaling.crop)
            .clampedToExtent()
            .transformed(by: toInput, highQualityDownsample: true)
            .cropped(to: CGRect(origin: .zero, size: target))

        let input = try pool.makeBuffer()
        let destination = CIRenderDestination(pixelBuffer: input)
        destination.colorSpace = nil
        _ = try context.startTask(toRender: image, to: destination).waitUntilCompleted()
        return input
    }
}

enum ModelInputScalerError: Error, CustomStringConvertible {
    case noMetal
    case emptyFrame

    var description: String {
        switch self {
        case .noMetal: return "This device has no Metal GPU to scale camera frames for the model."
        case .emptyFrame: return "The camera delivered an empty frame."
        }
    }
}
