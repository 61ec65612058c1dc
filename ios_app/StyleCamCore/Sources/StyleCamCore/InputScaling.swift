#if canImport(CoreGraphics)
import CoreGraphics
#endif
import Foundation

/// How a camera frame becomes the model's input: the centred crop with the wanted aspect ratio, scaled
/// to exactly the input size (scale-fill), as the emulator's `fit_camera_frame` does on the desktop.
///
/// A 1920x1080 frame is kept whole and scaled by 853/1920 across and 480/1080 down (the 0.04% aspect
/// change the model was trained with).
public struct InputScaling: Equatable, Sendable {
    /// The kept part of the frame, in frame pixels. It is centred, so it is the same rectangle whether
    /// the origin is the top-left (Core Video) or the bottom-left (Core Image) corner.
    public var crop: CGRect
    public var scaleX: CGFloat
    public var scaleY: CGFloat

    /// `frame` centre-cropped to `aspect` (width / height) and scaled to fill `target`.
    public init(frame: CGSize, aspect: Double, target: CGSize) {
        crop = FrameGeometry.centerCrop(of: frame, aspect: aspect)
        scaleX = crop.width > 0 ? target.width / crop.width : 0
        scaleY = crop.height > 0 ? target.height / crop.height : 0
    }
}
