import ServiceLifecycle

/// The wait between two rounds of a background service's loop.
///
/// Returns false when the service should stop instead: on graceful shutdown, and
/// also on cancellation, which is what ServiceGroup does to the other services when
/// one of them fails (the server cannot bind its port, say). A loop written with
/// `try? await Task.sleep` would spin at full speed after that, never ending.
public func waitForNextRound(_ interval: Duration) async -> Bool {
    do {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        return !Task.isCancelled
    } catch {
        return false
    }
}
