import CSQLite
import Foundation
import SentenceWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why the node cannot store right now. While one is set, writes are refused at once
/// with its status (507 for a full disk, 503 otherwise), `/usage` says
/// `"writable": false` and `/health` answers 503, so the balancer (and any other load
/// balancer's health check) routes around the node while it keeps serving reads.
struct StorageProblem: Sendable, Equatable {
    enum Kind: Sendable {
        case full, readOnly, ioError
    }

    var kind: Kind
    var detail: String
    /// Found at start-up (a read-only volume): only a restart on a writable one clears
    /// it. The others clear when a test write succeeds.
    var permanent = false

    var message: String {
        switch self.kind {
        case .full:
            "disk full (\(self.detail)): nothing is stored until space is freed on the database's volume"
        case .readOnly:
            "the database is read-only (\(self.detail)): this node serves reads only"
                + (self.permanent ? "; make its volume writable and restart it" : "")
        case .ioError:
            "storage I/O error (\(self.detail)): writes are refused until a test write succeeds"
        }
    }

    /// 507 Insufficient Storage says exactly what a full disk is; 503 says "try
    /// elsewhere or later" for the rest. Both are failures the balancer routes around.
    var error: APIError {
        self.kind == .full ? .insufficientStorage(self.message) : .unavailable(self.message)
    }

    /// The problem a failed write reveals, or nil for an error that is not about the storage.
    static func classify(_ error: SQLiteError) -> StorageProblem? {
        switch error.primary {
        case SQLITE_FULL: StorageProblem(kind: .full, detail: error.message)
        case SQLITE_READONLY: StorageProblem(kind: .readOnly, detail: error.message)
        case SQLITE_IOERR, SQLITE_CANTOPEN: StorageProblem(kind: .ioError, detail: error.message)
        default: nil
        }
    }
}

/// Facts about the folder holding the database, from the file system itself.
enum StorageFolder {
    /// Bytes an unprivileged writer may still use there, and the volume's size.
    static func space(_ folder: String) -> (free: Int, total: Int)? {
        var info = statvfs()
        guard statvfs(folder, &info) == 0 else { return nil }
        return (Int(info.f_bavail) * Int(info.f_frsize), Int(info.f_blocks) * Int(info.f_frsize))
    }

    /// How to open a database for reading only. On a read-only volume without a WAL
    /// file nothing can change it, so SQLite may skip the shared-memory index (which it
    /// could not create there); otherwise it reads through the WAL like any reader.
    static func readOnlyMode(for path: String) -> SQLiteConnection.Mode {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return self.isReadOnlyVolume(folder) && !FileManager.default.fileExists(atPath: path + "-wal") ? .immutable : .readOnly
    }

    static func isReadOnlyVolume(_ folder: String) -> Bool {
        var info = statvfs()
        return statvfs(folder, &info) == 0 && info.f_flag & UInt(ST_RDONLY) != 0
    }

    /// Why files there cannot be written, or nil when they can.
    static func whyNotWritable(folder: String, file: String) -> String? {
        if self.isReadOnlyVolume(folder) { return "its volume is mounted read-only" }
        if access(folder, W_OK) != 0 { return "its folder \(folder) is not writable" }
        if access(file, W_OK) != 0 { return "the file is not writable" }
        return nil
    }
}
