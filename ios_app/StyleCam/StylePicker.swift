import SwiftUI

/// One button per bundled style; the selected one is highlighted.
struct StylePicker: View {
    let names: [String]
    let selection: String?
    let onSelect: (String) -> Void

    var body: some View {
        ScrollView(.horizontal, showsIndicators: false) {
            HStack(spacing: 8) {
                ForEach(names, id: \.self) { name in
                    Button(name) { onSelect(name) }
                        .padding(.horizontal, 14)
                        .padding(.vertical, 8)
                        .foregroundColor(name == selection ? .black : .white)
                        .background(name == selection ? Color.white : Color.black.opacity(0.55))
                        .cornerRadius(16)
                }
            }
        }
    }
}
