import SwiftUI

/// Frame rate, model latency and dropped frames, over the video.
struct HUDView: View {
    let line: String
    let styleName: String?

    var body: some View {
        VStack(alignment: .leading, spacing: 2) {
            if let styleName {
                Text(styleName).font(.headline)
            }
            Text(line).font(.system(.caption, design: .monospaced))
        }
        .foregroundColor(.white)
        .padding(8)
        .background(Color.black.opacity(0.55))
        .cornerRadius(8)
        .frame(maxWidth: .infinity, alignment: .leading)
    }
}
