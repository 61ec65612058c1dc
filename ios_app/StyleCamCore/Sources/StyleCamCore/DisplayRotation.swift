#if canImport(CoreGraphics)
import CoreGraphics
#endif
import Foundation

/// The interface orientation, mirrored from UIKit so that rotation logic can be tested anywhere.
public enum InterfaceOrientation: Sendable {
    case portrait
    case portraitUpsideDown
    case landscapeLeft
    case landscapeRight
}

/// Clockwise quarter turns applied to a camera frame so it appears upright on screen.
public enum DisplayRotation: Int, Sendable, CaseIterable {
    case none = 0
    case clockwise90 = 1
    case clockwise180 = 2
    case clockwise270 = 3

    /// The back camera's buffers are upright when the interface is landscape-right (home side right).
    public static func forBackCamera(in orientation: InterfaceOrientation) -> DisplayRotation {
        switch orientation {
        case .landscapeRight: return .none
        case .portrait: return .clockwise90
        case .landscapeLeft: return .clockwise180
        case .portraitUpsideDown: return .clockwise270
        }
    }

    public var swapsWidthAndHeight: Bool {
        rawValue % 2 == 1
    }

    public func rotated(_ size: CGSize) -> CGSize {
        swapsWidthAndHeight ? CGSize(width: size.height, height: size.width) : size
    }
}
