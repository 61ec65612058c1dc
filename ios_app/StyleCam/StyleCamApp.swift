import SwiftUI

@main
struct StyleCamApp: App {
    var body: some Scene {
        WindowGroup {
            CameraScreen()
        }
    }
}
