import MetalKit
import SwiftUI

/// Hosts the MTKView that `FrameRenderer` draws the stylized frames into.
struct MetalFrameView: UIViewRepresentable {
    let renderer: FrameRenderer

    func makeUIView(context: Context) -> MTKView {
        let view = MTKView(frame: .zero, device: renderer.device)
        renderer.attach(to: view)
        return view
    }

    func updateUIView(_ view: MTKView, context: Context) {}
}
