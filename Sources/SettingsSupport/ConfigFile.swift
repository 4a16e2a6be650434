import ArgumentParser
import Configuration
import Foundation

/// A JSON config file: one flat object whose keys are settings' keys, such as
/// `{"port": 5001, "name": "A", "nodes": ["A=http://127.0.0.1:5001"]}`.
struct ConfigFile: Sendable {
    let path: String
    let provider: FileProvider<JSONSnapshot>
    /// Each key's value as JSON text, to show in a message when it is refused.
    let fragments: [String: String]

    /// Refuses, before the program starts, a file that is missing, is not a JSON object,
    /// or holds a key no setting has (a typo would otherwise leave a default in force).
    static func load(_ path: String, keys: [String]) async throws -> ConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw ValidationError("config file \(path) \(reason)")
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ValidationError("config file \(path) must hold one JSON object, such as {\"port\": 5001}")
            }
            object = parsed
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("config file \(path) is not valid JSON: \(Self.reason(error))")
        }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw ValidationError("config file \(path): unknown key \"\(unknown)\"; the keys are \(keys.joined(separator: ", "))")
        }
        if let nested = object.keys.sorted().first(where: { object[$0] is [String: Any] }) {
            throw ValidationError("config file \(path): \"\(nested)\" holds an object; each setting is a plain value or a list")
        }
        let location = InMemoryProvider(values: ["filePath": ConfigValue(.string(path), isSecret: false)])
        do {
            let provider = try await FileProvider<JSONSnapshot>(config: ConfigReader(provider: location))
            return ConfigFile(path: path, provider: provider, fragments: object.mapValues(Self.json))
        } catch {
            throw ValidationError("config file \(path): \(error)")
        }
    }

    private static func json(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) else {
            return "\(value)"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Foundation's own words for where the JSON goes wrong, without the error's type dump.
    private static func reason(_ error: any Error) -> String {
        let error = error as NSError
        return error.userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
    }
}
