import Foundation
import SettingsSupport
import Synchronization

/// `--nodes-file`: one node per line as `NAME=URL` (the syntax of `--node`), blank
/// lines and `#` comments ignored. Read at start-up (where a bad file stops the
/// balancer) and again whenever it changes, so nodes are added and removed by
/// editing it (or by updating the ConfigMap it is mounted from).
final class NodesFile: Sendable {
    let path: String
    /// What the file held when last read, to tell a real change from a touch.
    private let lastContents = Mutex<Data?>(nil)

    init(path: String) {
        self.path = path
    }

    /// The file's nodes when its contents differ from the last read (always on the
    /// first), nil when they do not. Throws when it cannot be read, or when the
    /// changed contents have a wrong line.
    func readIfChanged() throws(SettingProblem) -> [NodeEndpoint]? {
        guard let data = FileManager.default.contents(atPath: self.path) else {
            throw SettingProblem(detail: "cannot read nodes file \(self.path): it is missing or not readable")
        }
        let changed = self.lastContents.withLock { last in
            defer { last = data }
            return last != data
        }
        guard changed else { return nil }
        // A mistake is reported once, for this content; the next edit is read again.
        return try Self.parse(data, path: self.path)
    }

    static func parse(_ data: Data, path: String) throws(SettingProblem) -> [NodeEndpoint] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw SettingProblem(detail: "nodes file \(path) is not UTF-8 text")
        }
        var nodes: [NodeEndpoint] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let spec = content.trimmingCharacters(in: .whitespacesAndNewlines)
            if spec.isEmpty { continue }
            let node: NodeEndpoint
            do {
                node = try NodeEndpoint.parse(spec)
            } catch {
                throw SettingProblem(detail: "\(path) line \(number + 1): \(error.text)")
            }
            guard !nodes.contains(where: { $0.name == node.name }) else {
                throw SettingProblem(detail: "\(path) line \(number + 1): node name \(node.name) is used twice")
            }
            nodes.append(node)
        }
        return nodes
    }
}
