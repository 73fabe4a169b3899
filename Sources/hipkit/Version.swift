import HipChatConnect

enum HipKitVersion {
    static let current = "0.1.0"
}
