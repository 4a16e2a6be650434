import Foundation

/// The file a server writes its listening port to (`--port-file`): one line with the
/// number. Written to a temporary name and renamed, so a reader polling for it never
/// sees it half written.
public enum PortFile {
    public static func write(_ port: Int, to path: String) throws {
        let temporary = path + ".tmp"
        try Data("\(port)\n".utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// The port in a file written by `write`, or nil while there is none yet.
    public static func read(_ path: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
