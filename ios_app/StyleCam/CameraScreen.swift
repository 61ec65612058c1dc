import SwiftUI

/// The live view: stylized camera frames, the HUD, the style picker and any blocking message.
struct CameraScreen: View {
    @StateObject private var controller = StyleCamController()
    private let hudRefresh = Timer.publish(every: 0.5, on: .main, in: .common).autoconnect()

    var body: some View {
        ZStack {
            Color.black.ignoresSafeArea()
            if let renderer = controller.renderer {
                MetalFrameView(renderer: renderer).ignoresSafeArea()
            }
            VStack {
                HUDView(line: controller.hudLine, styleName: controller.selectedStyleName)
                Spacer()
                if !controller.styleNames.isEmpty {
                    StylePicker(names: controller.styleNames, selection: controller.selectedStyleName) { name in
                        controller.selectStyle(named: name)
                    }
                }
            }
            .padding()
            if let message = controller.message {
                MessageView(message: message)
            }
        }
        .task { await controller.start() }
        .onDisappear { controller.stop() }
        .onReceive(hudRefresh) { _ in controller.refreshHUD() }
    }
}
