#if canImport(CoreGraphics)
import CoreGraphics
#endif
import Foundation

/// Rectangles that map camera frames to the model input and model output to the screen.
public enum FrameGeometry {
    /// The largest rectangle of the given aspect ratio (width / height) centred in `source`.
    public static func centerCrop(of source: CGSize, aspect: Double) -> CGRect {
        precondition(aspect > 0, "aspect must be positive")
        guard source.width > 0, source.height > 0 else { return .zero }
        let sourceAspect = Double(source.width / source.height)
        var size = source
        if sourceAspect > aspect {
            size.width = source.height * CGFloat(aspect)
        } else {
            size.height = source.width / CGFloat(aspect)
        }
        return CGRect(
            x: (source.width - size.width) / 2,
            y: (source.height - size.height) / 2,
            width: size.width,
            height: size.height
        )
    }

    /// The largest rectangle with `content`'s aspect ratio that fits in `bounds`, centred (letterboxed).
    public static func aspectFit(_ content: CGSize, in bounds: CGSize) -> CGRect {
        guard content.width > 0, content.height > 0, bounds.width > 0, bounds.height > 0 else { return .zero }
        let scale = min(bounds.width / content.width, bounds.height / content.height)
        let size = CGSize(width: content.width * scale, height: content.height * scale)
        return CGRect(
            x: (bounds.width - size.width) / 2,
            y: (bounds.height - size.height) / 2,
            width: size.width,
            height: size.height
        )
    }
}
