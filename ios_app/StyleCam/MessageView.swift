import SwiftUI

/// A message that explains why there is no live video (no camera access, no model, ...).
struct MessageView: View {
    let message: String

    var body: some View {
        Text(message)
            .multilineTextAlignment(.center)
            .foregroundColor(.white)
            .padding(20)
            .background(Color.black.opacity(0.8))
            .cornerRadius(12)
            .padding(32)
    }
}
