import StyleCamCore
import UIKit

extension InterfaceOrientation {
    /// UIKit's orientation; unknown (no window yet) counts as portrait, the app's launch orientation.
    init(_ orientation: UIInterfaceOrientation?) {
        switch orientation {
        case .landscapeLeft: self = .landscapeLeft
        case .landscapeRight: self = .landscapeRight
        case .portraitUpsideDown: self = .portraitUpsideDown
        default: self = .portrait
        }
    }
}
