import Foundation

/// Ids for documents whose client gave none.
public enum DocumentID {
    /// A random (version 4) UUID, lowercase. Built from the system generator
    /// (getrandom) because Foundation's `UUID()` opens /dev/urandom on every call
    /// on Linux, which cost more than the insert itself in a batch of 10,000.
    public static func random() -> String {
        // Two draws, each one getrandom call (a draw per byte would be sixteen).
        var generator = SystemRandomNumberGenerator()
        let high = generator.next()
        let low = generator.next()
        var bytes = (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? high : low) >> (UInt64($0 % 8) * 8)) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
        return uuid.uuidString.lowercased()
    }
}
