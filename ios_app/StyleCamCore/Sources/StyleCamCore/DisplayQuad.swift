#if canImport(CoreGraphics)
import CoreGraphics
#endif
import Foundation

/// One corner of the textured quad the renderer draws: clip-space position and texture coordinate.
public struct QuadVertex: Equatable, Sendable {
    public var x: Float
    public var y: Float
    public var u: Float
    public var v: Float

    public init(x: Float, y: Float, u: Float, v: Float) {
        self.x = x
        self.y = y
        self.u = u
        self.v = v
    }
}

/// The quad that shows a frame aspect-fitted and rotated in a drawable.
///
/// Vertices come in triangle-strip order: bottom-left, bottom-right, top-left, top-right, in Metal clip
/// space (y up). Texture coordinates have (0, 0) at the frame's top-left pixel.
public enum DisplayQuad {
    public static func vertices(frame: CGSize, drawable: CGSize, rotation: DisplayRotation) -> [QuadVertex] {
        let fit = FrameGeometry.aspectFit(rotation.rotated(frame), in: drawable)
        guard fit.width > 0, fit.height > 0 else { return [] }
        let left = Float(fit.minX / drawable.width * 2 - 1)
        let right = Float(fit.maxX / drawable.width * 2 - 1)
        let top = Float(1 - fit.minY / drawable.height * 2)
        let bottom = Float(1 - fit.maxY / drawable.height * 2)

        let textureCorners: [(u: Float, v: Float)] = [(0, 0), (1, 0), (1, 1), (0, 1)]
        func texture(forScreenCorner corner: Int) -> (u: Float, v: Float) {
            textureCorners[(corner - rotation.rawValue + 4) % 4]
        }
        let topLeft = texture(forScreenCorner: 0)
        let topRight = texture(forScreenCorner: 1)
        let bottomRight = texture(forScreenCorner: 2)
        let bottomLeft = texture(forScreenCorner: 3)
        return [
            QuadVertex(x: left, y: bottom, u: bottomLeft.u, v: bottomLeft.v),
            QuadVertex(x: right, y: bottom, u: bottomRight.u, v: bottomRight.v),
            QuadVertex(x: left, y: top, u: topLeft.u, v: topLeft.v),
            QuadVertex(x: right, y: top, u: topRight.u, v: topRight.v),
        ]
    }
}
