import Foundation

/// Hands the newest value from a producer thread to a consumer, dropping values nobody took in time.
///
/// The inference queue puts each stylized frame; the renderer takes the latest when it draws and learns
/// whether it is new (so only new frames count towards the displayed frame rate).
public final class LatestFrameMailbox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?
    private var isNew = false
    private var replacedUnseen = 0

    public init() {}

    public func put(_ newValue: Value) {
        lock.lock()
        defer { lock.unlock() }
        if isNew {
            replacedUnseen += 1
        }
        value = newValue
        isNew = true
    }

    /// The latest value (it stays available for redraws) and whether this is its first take.
    public func take() -> (value: Value?, isNew: Bool) {
        lock.lock()
        defer { lock.unlock() }
        let wasNew = isNew
        isNew = false
        return (value, wasNew)
    }

    public func clear() {
        lock.lock()
        defer { lock.unlock() }
        value = nil
        isNew = false
    }

    /// Values replaced before anyone took them: frames stylized but never shown.
    public var unseenReplacements: Int {
        lock.lock()
        defer { lock.unlock() }
        return replacedUnseen
    }
}
